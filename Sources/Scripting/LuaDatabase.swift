import CLua
import DHCPWire
import Databases
import Foundation

/// Runs work on the serial executor that owns the `ScriptRuntime` (supplied by the engine or the
/// executable). `LuaDatabaseEngine` uses it to get from an async lookup onto that executor.
public protocol ScriptExecutor: Sendable {
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T
}

/// A database defined in conf.lua: `DATABASE_ENGINE = function() return { lookupMAC = function(mac)
/// ... end, reinitialise = function() ... end } end`. `lookupMAC(mac)` gets the MAC string and may
/// return a Definition, a list of them, or nil; `reinitialise` is optional. Both run on the
/// runtime's serial executor with the hook budgets.
public struct LuaDatabaseEngine: ImmediateLookup {
    let runtime: ScriptRuntime
    let executor: any ScriptExecutor

    public var engineName: String { "Lua" }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        let runtime = runtime
        return try await executor.run { try runtime.luaDatabaseLookup(mac) }
    }

    /// The engine calls this on the executor that owns the runtime, so the script runs at once.
    public func lookupImmediately(_ mac: MAC) throws -> [Definition]? {
        try runtime.luaDatabaseLookup(mac)
    }

    public func reinitialise() async throws {
        let runtime = runtime
        try await executor.run { try runtime.luaDatabaseReinitialise() }
    }
}

extension ScriptRuntime {
    /// Calls the `DATABASE_ENGINE` function once and keeps the table it returns.
    /// Call it on the runtime's executor, before serving.
    public func makeLuaDatabase(executor: any ScriptExecutor) throws(ScriptError) -> LuaDatabaseEngine {
        guard settings.databaseEngine == .luaFunction else {
            throw ScriptError(.settings, "DATABASE_ENGINE: expected a function to build a Lua database, found \(settings.databaseEngine)")
        }
        enter()
        defer { leave() }
        clua_getglobal(L, "DATABASE_ENGINE")
        try protectedCall(arguments: 0, results: 1, what: "DATABASE_ENGINE()")
        guard lua_type(L, -1) == LUA_TTABLE else {
            let found = describe(L, -1)
            clua_pop(L, 1)
            throw ScriptError(.badResult, "DATABASE_ENGINE() returned \(found); expected a table with a lookupMAC function")
        }
        lua_getfield(L, -1, "lookupMAC")
        let isFunction = lua_type(L, -1) == LUA_TFUNCTION
        clua_pop(L, 1)
        guard isFunction else {
            clua_pop(L, 1)
            throw ScriptError(.badResult, "DATABASE_ENGINE() returned a table without a lookupMAC function")
        }
        if luaDatabaseRef != LUA_NOREF { clua_unref(L, luaDatabaseRef) }
        luaDatabaseRef = clua_ref(L)
        return LuaDatabaseEngine(runtime: self, executor: executor)
    }

    func luaDatabaseLookup(_ mac: MAC) throws(ScriptError) -> [Definition] {
        enter()
        defer { leave() }
        pushRef(luaDatabaseRef)
        lua_getfield(L, -1, "lookupMAC")
        clua_remove(L, -2)
        pushMAC(L, mac)
        try protectedCall(arguments: 1, results: 1, what: "lookupMAC")
        defer { clua_pop(L, 1) }
        return try definitions(at: -1, hook: "lookupMAC")
    }

    func luaDatabaseReinitialise() throws(ScriptError) {
        enter()
        defer { leave() }
        pushRef(luaDatabaseRef)
        lua_getfield(L, -1, "reinitialise")
        clua_remove(L, -2)
        guard lua_type(L, -1) == LUA_TFUNCTION else { clua_pop(L, 1); return }
        try protectedCall(arguments: 0, results: 0, what: "reinitialise")
    }
}

/// The outcome of `staticdhcpd --check-config`.
public struct ConfigCheckReport: Sendable {
    public var configFile: URL
    /// Every error found; empty means the configuration is usable.
    public var errors: [String]
    public var warnings: [String]
    public var settings: Settings?
    public var isValid: Bool { errors.isEmpty }
}

extension ScriptRuntime {
    /// Runs conf.lua's top level, validates every setting and that each hook name holds a function.
    /// Binds nothing, opens no database, and does not call `init()`.
    public static func checkConfig(configFile: URL, limits: ScriptLimits = .default) -> ConfigCheckReport {
        let collected = Mutex<[String]>([])
        let log = ClosureScriptLog { level, _, message in
            if level >= .warning { collected.withLock { $0.append(message) } }
        }
        do {
            let runtime = try ScriptRuntime(configFile: configFile, limits: limits, log: log)
            return ConfigCheckReport(configFile: configFile, errors: [], warnings: collected.withLock { $0 }, settings: runtime.settings)
        } catch {
            return ConfigCheckReport(configFile: configFile, errors: error.problems, warnings: collected.withLock { $0 }, settings: nil)
        }
    }
}

import Synchronization
