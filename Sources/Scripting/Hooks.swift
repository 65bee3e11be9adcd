import CLua
import DHCPModel
import DHCPWire
import Databases

// The five hooks (docs/SCRIPTING.md, "Hooks"), called with the guide's arguments. Absent hooks cost
// nothing: the engine checks `hooks` first, and each call returns the default at once.

extension ScriptRuntime {
    private enum Hook: Int {
        case initialise, filterPacket, handleUnknownMAC, filterRetrievedDefinitions, loadDHCPPacket
    }

    /// The `method` strings (docs/PROTOCOL.md §1.2), kept alive in one registry table: Lua interns
    /// short strings, so pushing an anchored one only hashes and finds it, where an unanchored one
    /// is collected between requests and made again (an allocation) for every hook call.
    static let methodNames = [
        "DISCOVER", "INFORM", "DECLINE", "RELEASE", "LEASEQUERY", "REQUEST", "REQUEST:SELECTING",
        "REQUEST:INIT-REBOOT", "REQUEST:RENEW", "REQUEST:REBIND",
    ]

    func installMethodNames() {
        lua_createtable(L, Int32(Self.methodNames.count), 0)
        for (index, name) in Self.methodNames.enumerated() {
            pushString(L, name)
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
        _ = clua_ref(L) // never released: the table lives as long as the state
        pushString(L, "")
        calls.pointee.lastMethodRef = clua_ref(L)
    }

    /// Pushes the method string. The engine hands the same few strings again and again: the last
    /// one pushed is kept in a registry slot, and a Swift `==` (immediate for the same string
    /// object) spares hashing it into Lua's string table once more.
    @inline(__always) private func pushMethod(_ method: String) {
        let calls = self.calls
        if method == calls.pointee.lastMethod {
            _ = clua_getref(L, calls.pointee.lastMethodRef)
            return
        }
        pushString(L, method)
        lua_pushvalue(L, -1)
        lua_rawseti(L, clua_registryindex(), lua_Integer(calls.pointee.lastMethodRef))
        calls.pointee.lastMethod = method
    }

    /// Pushes method, mac, client_ip (or definition), relay_ip, port.
    @inline(__always) private func pushContext(_ ctx: RequestContext, third: () -> Void) {
        pushMethod(ctx.method)
        pushMAC(L, ctx.mac)
        third()
        pushIPv4(L, ctx.relayIP)
        lua_pushinteger(L, lua_Integer(ctx.port))
    }

    /// `filterPacket(packet, method, mac, client_ip, relay_ip, port)`: true accepts, false drops,
    /// nil blocklists. A Lua error is thrown, like every hook's: the engine drops the packet and
    /// logs it at CRITICAL, once per interval for a hook failing on every packet.
    public func filterPacket(_ packet: inout DHCPPacket, _ ctx: RequestContext) throws(ScriptError) -> HookRun<FilterVerdict> {
        guard hooks.filterPacket else { return .done(.accept) }
        enter()
        defer { leave() }
        return try bind(&packet, slot: 0, requestID: ctx.requestID) { () throws(ScriptError) -> HookRun<FilterVerdict> in
            let handler = pushHandler()
            pushRef(calls.pointee.hookRefs[Hook.filterPacket.rawValue])
            pushPacket(0)
            pushContext(ctx) { pushIPv4(L, ctx.clientIP) }
            return try runHook(arguments: 6, handler: handler, what: "filterPacket", read: Self.readVerdict)
        }
    }

    private static func readVerdict(_ runtime: ScriptRuntime) -> FilterVerdict {
        switch lua_type(runtime.L, -1) {
        case LUA_TNIL: .blocklist
        case LUA_TBOOLEAN: lua_toboolean(runtime.L, -1) != 0 ? .accept : .drop
        default: .accept // any other value is truthy, as in the original
        }
    }

    /// `handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)`: a Definition, a list of
    /// them, a table of fields, or nil/false/an empty table (none). Errors are thrown for the engine to log and drop the request.
    public func handleUnknownMAC(_ packet: inout DHCPPacket, _ ctx: RequestContext) throws(ScriptError) -> HookRun<[Definition]> {
        guard hooks.handleUnknownMAC else { return .done([]) }
        enter()
        defer { leave() }
        return try bind(&packet, slot: 0, requestID: ctx.requestID) { () throws(ScriptError) -> HookRun<[Definition]> in
            let handler = pushHandler()
            pushRef(calls.pointee.hookRefs[Hook.handleUnknownMAC.rawValue])
            pushPacket(0)
            pushContext(ctx) { pushIPv4(L, ctx.clientIP) }
            return try runHook(arguments: 6, handler: handler, what: "handleUnknownMAC") { (runtime) throws(ScriptError) in
                try runtime.definitions(at: -1, hook: "handleUnknownMAC")
            }
        }
    }

    /// `filterRetrievedDefinitions(definitions, packet, method, mac, client_ip, relay_ip, port)`:
    /// the chosen Definition (or a table of fields, or a one-item list), or nil/false/an empty table. Without the hook, several definitions are an error (as in the original).
    public func filterRetrievedDefinitions(_ defs: [Definition], _ packet: inout DHCPPacket, _ ctx: RequestContext) throws(ScriptError) -> HookRun<Definition?> {
        guard hooks.filterRetrievedDefinitions else {
            throw ScriptError(.badResult, "\(defs.count) definitions match \(ctx.mac), and conf.lua defines no filterRetrievedDefinitions to choose one")
        }
        enter()
        defer { leave() }
        return try bind(&packet, slot: 0, requestID: ctx.requestID) { () throws(ScriptError) -> HookRun<Definition?> in
            let handler = pushHandler()
            pushRef(calls.pointee.hookRefs[Hook.filterRetrievedDefinitions.rawValue])
            lua_createtable(L, Int32(defs.count), 0)
            for (index, definition) in defs.enumerated() {
                pushDefinition(definition)
                lua_rawseti(L, -2, lua_Integer(index + 1))
            }
            pushPacket(0)
            pushContext(ctx) { pushIPv4(L, ctx.clientIP) }
            return try runHook(arguments: 7, handler: handler, what: "filterRetrievedDefinitions") { (runtime) throws(ScriptError) -> Definition? in
                try runtime.chosenDefinition(at: -1, hook: "filterRetrievedDefinitions")
            }
        }
    }

    /// `loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)`: true sends
    /// the response, false drops it. `source` is a pristine copy of the request; changes to it are
    /// discarded. A suspended call keeps the response (its `primary`) until it finishes.
    public func loadDHCPPacket(_ response: inout DHCPPacket, _ ctx: RequestContext, definition: Definition?, source: DHCPPacket) throws(ScriptError) -> HookRun<Bool> {
        guard hooks.loadDHCPPacket else { return .done(true) }
        enter()
        defer { leave() }
        var sourceCopy = source
        return try bind(&response, slot: 0, requestID: ctx.requestID) { () throws(ScriptError) -> HookRun<Bool> in
            try bind(&sourceCopy, slot: 1, requestID: ctx.requestID) { () throws(ScriptError) -> HookRun<Bool> in
                let handler = pushHandler()
                pushRef(calls.pointee.hookRefs[Hook.loadDHCPPacket.rawValue])
                pushPacket(0)
                pushContext(ctx) {
                    pushDefinition(orNil: definition)
                }
                pushPacket(1)
                return try runHook(arguments: 7, handler: handler, what: "loadDHCPPacket") { runtime in
                    lua_toboolean(runtime.L, -1) != 0
                }
            }
        }
    }
}
