import CLua
import DHCPModel
import DHCPWire

/// A web callback's answer: nothing (nil), a fragment (a string), or `(mimetype, data[, headers])`.
public enum WebCallResult: Sendable, Equatable {
    case none
    case fragment(String)
    case content(mimeType: String, data: [UInt8], headers: [String: String])
}

extension ScriptRuntime {
    /// Pushes `private[name]`.
    func pushPrivateField(_ name: String) {
        pushRef(privateRef)
        lua_getfield(L, -1, name)
        clua_remove(L, -2)
    }

    /// Calls every function of the private list `name` with `arguments` pushed by `push`;
    /// returns the errors (each callback runs even when an earlier one failed).
    private func runList(_ name: String, what: String, arguments: Int32 = 0, push: () -> Void = {}) -> [ScriptError] {
        enter()
        defer { leave() }
        let (snapshot, count) = pushListSnapshot(name)
        defer { lua_settop(L, snapshot - 2) }
        var errors: [ScriptError] = []
        for position in 1...max(count, 1) where count > 0 {
            lua_rawgeti(L, snapshot, lua_Integer(position))
            push()
            do { try protectedCall(arguments: arguments, results: 0, what: what) } catch { errors.append(error) }
        }
        return errors
    }

    /// Pushes the private list `name` and a copy of it (a callback may remove itself while the list
    /// runs); returns the copy's index and length. The caller drops both.
    private func pushListSnapshot(_ name: String) -> (snapshot: Int32, count: Int) {
        pushPrivateField(name)
        let list = lua_gettop(L)
        let count = Int(lua_rawlen(L, list))
        lua_createtable(L, Int32(count), 0)
        for position in 1...max(count, 1) where count > 0 {
            lua_rawgeti(L, list, lua_Integer(position))
            lua_rawseti(L, -2, lua_Integer(position))
        }
        return (lua_gettop(L), count)
    }

    /// Runs the tick handlers in registration order; each failure is logged CRITICAL and the
    /// rest still run. With a remote store each handler is a coroutine of its own, and those that
    /// wait on the store are returned for the caller to finish (`SuspendedCall`), so that a tick
    /// never holds the engine's thread for a round trip.
    @discardableResult
    public func runTickHandlers() -> [SuspendedCall<Void>] {
        guard hooksMaySuspend else {
            for error in runList("tick", what: "tick handler") { report(.critical, error.description) }
            return []
        }
        enter()
        defer { leave() }
        let (snapshot, count) = pushListSnapshot("tick")
        defer { lua_settop(L, snapshot - 2) }
        var waiting: [SuspendedCall<Void>] = []
        for position in 1...max(count, 1) where count > 0 {
            let handler = pushHandler()
            lua_rawgeti(L, snapshot, lua_Integer(position))
            do {
                if case .suspended(let call) = try runHook(arguments: 0, handler: handler, what: "tick handler", read: { _ in () }) {
                    waiting.append(call)
                }
            } catch {
                report(.critical, error.description)
            }
        }
        return waiting
    }

    /// Runs the reinitialisation handlers in registration order and returns their errors (the
    /// caller decides: the original shuts the server down when one fails).
    public func runReinitHandlers() -> [ScriptError] {
        runList("reinit", what: "reinitialisation handler")
    }

    /// Whether any statistics handler is registered (so the engine can skip building records).
    /// Asked once per packet: reads the list through its own registry reference (the prelude makes
    /// `private.stats` once and only ever changes it in place), without the field lookup by name.
    public var hasStatisticsHandlers: Bool {
        _ = clua_getref(L, calls.pointee.statsListRef)
        defer { clua_pop(L, 1) }
        return lua_rawlen(L, -1) > 0
    }

    /// Delivers one statistics record to every stats handler as a table with the fields
    /// docs/SCRIPTING.md lists under `statsAddHandler` (`source_address` is `{ip, port}`); failures are logged CRITICAL.
    public func deliverStatistics(_ record: Statistics) {
        let errors = runList("stats", what: "statistics handler", arguments: 1) { pushStatistics(record) }
        for error in errors { report(.critical, error.description) }
    }

    private func pushStatistics(_ record: Statistics) {
        lua_createtable(L, 0, 10)
        lua_createtable(L, 2, 0)
        pushString(L, record.sourceIP.description)
        lua_rawseti(L, -2, 1)
        lua_pushinteger(L, lua_Integer(record.sourcePort))
        lua_rawseti(L, -2, 2)
        lua_setfield(L, -2, "source_address")
        pushMAC(L, record.mac); lua_setfield(L, -2, "mac")
        pushIPv4(L, record.ip); lua_setfield(L, -2, "ip")
        if let subnet = record.subnet { pushString(L, subnet); lua_setfield(L, -2, "subnet") }
        if let serial = record.serial { lua_pushinteger(L, lua_Integer(serial)); lua_setfield(L, -2, "serial") }
        if let method = record.method { pushString(L, method); lua_setfield(L, -2, "method") }
        lua_pushnumber(L, record.processingTime); lua_setfield(L, -2, "processing_time")
        lua_pushboolean(L, record.processed ? 1 : 0); lua_setfield(L, -2, "processed")
        // The local port only for DHCP datagrams: the original gives `False` for the others.
        if record.mac != nil { lua_pushinteger(L, lua_Integer(record.port)); lua_setfield(L, -2, "port") }
    }

    // MARK: - Web

    /// Everything conf.lua registered for the web layer, read from the private tables.
    public func webRegistrations() -> WebRegistrations {
        enter()
        defer { leave() }
        var result = WebRegistrations()
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        pushPrivateField("headers")
        for entry in arrayEntries() { result.headers.append(WebHeaderRegistration(id: entry["id"]?.intValue ?? 0)) }
        clua_pop(L, 1)
        pushPrivateField("dashboard")
        for entry in arrayEntries() {
            result.dashboardElements.append(WebDashboardRegistration(
                id: entry["id"]?.intValue ?? 0, module: entry["module"]?.textValue ?? "",
                name: entry["name"]?.textValue ?? "", ordering: entry["ordering"]?.intValue ?? 0))
        }
        clua_pop(L, 1)
        result.dashboardElements.sort { ($0.ordering, $0.module, $0.name) < ($1.ordering, $1.module, $1.name) }
        pushPrivateField("methods")
        guard case .table(_, let methods) = ScriptValue.read(L, -1, depth: 2) else { return result }
        for (path, value) in methods {
            guard case .table(_, let entry) = value else { continue }
            result.methods.append(WebMethodRegistration(
                path: path,
                cacheable: entry["cacheable"]?.boolValue ?? false, hidden: entry["hidden"]?.boolValue ?? true,
                secure: entry["secure"]?.boolValue ?? false, isPublic: entry["public"]?.boolValue ?? false,
                jsonAPI: entry["json_api"]?.boolValue ?? false, module: entry["module"]?.textValue,
                name: entry["name"]?.textValue, confirm: entry["confirm"]?.boolValue ?? false,
                displayMode: WebDisplayMode(rawValue: entry["display_mode"]?.intValue ?? 3) ?? .raw,
                id: entry["id"]?.intValue ?? 0))
        }
        result.methods.sort { $0.path < $1.path }
        return result
    }

    private func arrayEntries() -> [[String: ScriptValue]] {
        guard case .table(let array, _) = ScriptValue.read(L, -1, depth: 2) else { return [] }
        return array.compactMap { if case .table(_, let fields) = $0 { fields } else { nil } }
    }

    /// Runs the web callback registered under `id` with `(path, queryargs, mimetype, data, headers, csrf_token)`.
    /// A Lua error is thrown (the web layer answers 500 and logs it). With a local store (tests).
    public func callWebCallback(id: Int, request: WebCallbackRequest) throws(ScriptError) -> WebCallResult {
        guard case .done(let result) = try startWebCallback(id: id, request: request) else {
            throw ScriptError(.runtime, "web callback for \(request.path) waits on the store; call startWebCallback")
        }
        return result
    }

    /// `callWebCallback`, which with a shared store may suspend on it like a hook: the caller
    /// finishes it with `SuspendedCall.wait()` and `resume()`, so a page never holds the engine's
    /// thread for a round trip.
    public func startWebCallback(id: Int, request: WebCallbackRequest) throws(ScriptError) -> HookRun<WebCallResult> {
        enter()
        defer { leave() }
        pushPrivateField("byId")
        defer { clua_pop(L, 1) }
        let handler = pushHandler()
        guard lua_rawgeti(L, -2, lua_Integer(id)) == LUA_TTABLE else {
            clua_pop(L, 2)
            throw ScriptError(.badResult, "no web callback is registered with id \(id)")
        }
        lua_getfield(L, -1, "callback")
        clua_remove(L, -2)
        pushString(L, request.path)
        lua_createtable(L, 0, Int32(request.queryArguments.count))
        for (key, values) in request.queryArguments {
            pushStringList(L, values)
            lua_setfield(L, -2, key)
        }
        if let mimeType = request.mimetype { pushString(L, mimeType) } else { lua_pushnil(L) }
        if let data = request.data { pushBytesAsString(L, data) } else { lua_pushnil(L) }
        lua_createtable(L, 0, Int32(request.headers.count))
        for (key, value) in request.headers {
            pushString(L, value)
            lua_setfield(L, -2, key.lowercased())
        }
        pushPrivateField("headerNames")
        lua_setmetatable(L, -2)
        if let token = request.csrfToken { pushString(L, token) } else { lua_pushnil(L) }
        let path = request.path
        return try runHook(arguments: 6, handler: handler, what: "web callback for \(path)", results: 3) { (runtime) throws(ScriptError) in
            try runtime.webResult(path: path)
        }
    }

    /// Reads a web callback's three results at the top of the stack: a string (or nil), or
    /// mimetype, data[, headers] as multiple results or one table.
    private func webResult(path: String) throws(ScriptError) -> WebCallResult {
        if lua_type(L, -3) == LUA_TTABLE {
            lua_rawgeti(L, -3, 1); lua_rawgeti(L, -4, 2); lua_rawgeti(L, -5, 3)
            defer { clua_pop(L, 3) }
            return try webContent(L, mimeIndex: -3)
        }
        if lua_type(L, -2) != LUA_TNIL { return try webContent(L, mimeIndex: -3) }
        switch lua_type(L, -3) {
        case LUA_TNIL: return .none
        case LUA_TSTRING: return .fragment(stringValue(L, -3) ?? "")
        default: throw ScriptError(.badResult, "web callback for \(path) returned \(describe(L, -3)); expected a string, nil or (mimetype, data[, headers])")
        }
    }

    private func webContent(_ L: LuaState, mimeIndex: Int32) throws(ScriptError) -> WebCallResult {
        guard let mimeType = stringValue(L, mimeIndex), let data = stringBytes(L, mimeIndex + 1) else {
            throw ScriptError(.badResult, "a web method must return (mimetype, data[, headers]) as strings")
        }
        var headers: [String: String] = [:]
        if case .table(_, let fields) = ScriptValue.read(L, mimeIndex + 2, depth: 1) {
            for (key, value) in fields { if case .string(let text) = value { headers[key] = text } }
        }
        return .content(mimeType: mimeType, data: data, headers: headers)
    }
}

extension ScriptValue {
    var intValue: Int? { if case .integer(let value) = self { value } else { nil } }
    var textValue: String? { if case .string(let value) = self { value } else { nil } }
    var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    var numberValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}
