import CLua
import DHCPWire

extension ScriptRuntime {
    /// Installs everything conf.lua's top level can use: logger, writeLog, callbacks, extensions,
    /// Definition, MAC, IPv4, the conversion functions and the rfc* helpers, and the packet type.
    func installGlobals() throws(ScriptError) {
        // The runtime's private table: log sink, callback registrations, per-request metas.
        lua_createtable(L, 0, 16)
        setFunction(L, "log", luaLog)
        setFunction(L, "setLogLevel", luaSetLogLevel)
        lua_createtable(L, 0, 0)
        lua_pushvalue(L, -1)
        calls.pointee.metasRef = clua_ref(L)
        lua_setfield(L, -2, "metas")
        lua_pushvalue(L, -1)
        privateRef = clua_ref(L)

        let source = preludeSource
        let status = source.withCString { clua_loadbuffer(L, $0, strlen($0), "=prelude") }
        guard status == LUA_OK else {
            let message = stringValue(L, -1) ?? "?"
            clua_pop(L, 2)
            throw ScriptError(.syntax, "prelude: \(message)")
        }
        clua_insert(L, -2) // function below its argument
        try protectedCall(arguments: 1, results: 0, what: "prelude")
        pushRef(privateRef)
        lua_getfield(L, -1, "stats")
        calls.pointee.statsListRef = clua_ref(L)
        clua_pop(L, 1)

        installAddressHelpers()
        installConversions()
        installRFCHelpers()
        installDefinition()
        installPacketType()
        installOptionNames()
        installMethodNames()
        installStore()
    }
}

/// `private.log(level, name, message)`: the sink behind `logger.*` and `writeLog`.
private let luaLog: LuaFunction = { L in
    luaEntry(L, "logger") { L in
        let level = LogLevel(rawValue: integerValue(L, 1) ?? 2) ?? .warning
        let name = stringValue(L, 2) ?? "conf"
        let message = stringValue(L, 3) ?? ""
        ScriptRuntime.from(L).log.log(level, logger: name, message)
        return 0
    }
}

import Glibc
