import CLua
import DHCPModel
import Foundation

extension ScriptRuntime {
    /// The lowest level a registered log handler wants, or nil when there is none (the daemon
    /// then collects nothing). Safe to read from any thread.
    public var logHandlerMinimumLevel: LogLevel? {
        LogLevel(rawValue: logHandlerLevel.load(ordering: .relaxed))
    }

    /// Delivers records to every log handler whose minimum level they reach, in registration order.
    /// A failing handler is reported at ERROR (through the runtime's own log, which the daemon
    /// does not feed back to handlers) and the others still run.
    public func deliverLogRecords(_ records: [LogRecord]) {
        guard !records.isEmpty, logHandlerMinimumLevel != nil else { return }
        enter()
        defer { leave() }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        pushRef(privateRef)
        lua_getfield(L, -1, "logHandlers")
        let list = lua_gettop(L)
        let count = Int(lua_rawlen(L, list))
        guard count > 0 else { return }
        // Snapshot: a handler may remove itself.
        lua_createtable(L, Int32(count), 0)
        for position in 1...count {
            lua_rawgeti(L, list, lua_Integer(position))
            lua_rawseti(L, -2, lua_Integer(position))
        }
        let snapshot = lua_gettop(L)
        for record in records {
            for position in 1...count {
                lua_rawgeti(L, snapshot, lua_Integer(position))
                lua_getfield(L, -1, "level")
                let minimum = integerValue(L, -1) ?? 2
                clua_pop(L, 1)
                let level = LogLevel(record.level)
                guard level.rawValue >= minimum else { clua_pop(L, 1); continue }
                lua_getfield(L, -1, "callback")
                clua_remove(L, -2)
                lua_createtable(L, 0, 5)
                lua_pushnumber(L, record.time.timeIntervalSince1970); lua_setfield(L, -2, "time")
                lua_pushinteger(L, lua_Integer(level.rawValue)); lua_setfield(L, -2, "level")
                pushString(L, level.name); lua_setfield(L, -2, "level_name")
                pushString(L, record.logger); lua_setfield(L, -2, "logger")
                pushString(L, record.message); lua_setfield(L, -2, "message")
                do {
                    try protectedCall(arguments: 1, results: 0, what: "log handler")
                } catch {
                    log.log(.error, logger: "scripting", error.description)
                }
            }
        }
    }
}

/// `private.setLogLevel(n)`: the prelude reports the lowest level any handler wants (-1: none).
let luaSetLogLevel: LuaFunction = { L in
    luaEntry(L, "setLogLevel") { L in
        ScriptRuntime.from(L).logHandlerLevel.store(integerValue(L, 1) ?? -1, ordering: .relaxed)
        return 0
    }
}
