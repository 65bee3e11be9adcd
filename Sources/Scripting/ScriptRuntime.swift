import CLua
import DHCPWire
import Databases
import Foundation
import Synchronization

/// The bridge between the Swift core and one Lua 5.4 state running the operator's conf.lua.
///
/// **Threading contract.** Lua states are single-threaded, so every method of this class is
/// synchronous and must be called from one serial executor at a time (the engine's). Debug builds
/// trap a second caller entering while a call is in progress. There is no `async` inside: a hook
/// that runs too long is stopped by the instruction budget and the wall-clock limit instead.
public final class ScriptRuntime: @unchecked Sendable {
    /// The Lua state calls work on: the main thread, or, while a hook coroutine runs, that
    /// coroutine, whose stack the C functions it calls are given (and so every helper of this
    /// class must use). Behind a pointer, like `calls`: read on every access, with no exclusivity
    /// check.
    @inline(__always) var L: LuaState { running.pointee }
    /// The main thread, which owns the state.
    let mainState: LuaState
    let running: UnsafeMutablePointer<LuaState>
    let limitsState: UnsafeMutablePointer<clua_Limits>
    let log: any ScriptLog
    /// The file that was loaded, and its directory (for package.path).
    public let configFile: URL
    public private(set) var settings: Settings
    /// Which hooks conf.lua defines.
    public var hooks: HookPresence { calls.pointee.hooks }
    /// Limits of the current phase: the constructor's for the top level, the settings' afterwards.
    var limits: ScriptLimits {
        get { calls.pointee.limits }
        set { calls.pointee.limits = newValue }
    }
    /// The state every hook call uses, unchecked by the exclusivity runtime (see `CallState`).
    let calls: UnsafeMutablePointer<CallState>
    /// The bound packets' tokens and request ids, for the packet indexer written in C.
    let hookPackets: UnsafeMutablePointer<clua_HookPackets>

    /// Registry reference of the runtime's private Lua table (callbacks, metas, ...).
    var privateRef: Int32 = LUA_NOREF
    var luaDatabaseRef: Int32 = LUA_NOREF
    private let busy = Atomic<Bool>(false)
    /// The scripts' persistent store, once the daemon has opened it (`attachStore`).
    var store: KeyValueStore?
    /// The store shared with other daemons (`STORE_ENGINE = "PostgreSQL"`), instead of `store`.
    var remoteStore: (any RemoteStore)?
    /// `DATABASE_TIMEOUT`: how long a store call made where no coroutine can wait may block.
    var remoteStoreTimeout = 5.0
    /// The remote store's open transactions, by the coroutine (lua_State address) that opened them.
    var storeTransactions: [UInt: any RemoteStoreTransaction] = [:]
    /// Hooks (and handlers) of this runtime suspended on a store round trip right now: made and
    /// released with their `SuspendedCall`, on whatever thread releases it. `store.waiting()`.
    let waitingHooks = Atomic<Int>(0)
    /// Set by a store function that yields: the round trip its coroutine waits for.
    var pendingStoreCall: PendingStoreCall?
    /// The hook coroutine running now, the only one a store call may suspend.
    var suspendableThread: LuaState?
    /// Coroutine threads that finished normally, kept for the next hooks (with their registry refs).
    var idleThreads: [(LuaState, Int32)] = []
    /// The lowest level any `callbacks.logAddHandler` handler wants (-1: none); read from any thread.
    let logHandlerLevel = Atomic<Int>(-1)

    /// Finds conf.lua: `explicit` (a file, or a directory holding conf.lua), else env
    /// `STATICDHCPD_CONF_PATH` (its directory part), else `./conf/conf.lua`, else
    /// `/etc/staticDHCPd/conf.lua`. The error lists every path searched.
    public static func locateConfig(explicit: String?, environment: [String: String], cwd: String) throws(ScriptError) -> URL {
        let cwdURL = URL(fileURLWithPath: cwd, isDirectory: true)
        var candidates: [URL] = []
        func resolve(_ path: String) -> URL {
            path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: path, relativeTo: cwdURL).standardizedFileURL
        }
        if let explicit, !explicit.isEmpty {
            let url = resolve(explicit)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                candidates.append(url.appendingPathComponent("conf.lua"))
            } else {
                candidates.append(url)
            }
        } else if let fromEnvironment = environment["STATICDHCPD_CONF_PATH"], !fromEnvironment.isEmpty {
            let url = resolve(fromEnvironment)
            var isDirectory: ObjCBool = false
            let directory = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
                ? url : url.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("conf.lua"))
        } else {
            candidates.append(cwdURL.appendingPathComponent("conf").appendingPathComponent("conf.lua"))
            candidates.append(URL(fileURLWithPath: "/etc/staticDHCPd/conf.lua"))
        }
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate.standardizedFileURL
            }
        }
        throw ScriptError(.configNotFound, "conf.lua not found; searched: " + candidates.map(\.path).joined(separator: ", "))
    }

    /// Creates the state, installs every global, runs conf.lua's top level and validates its
    /// settings. Does not call `init()`: the server calls `callInit()` when its subsystems are up.
    public init(configFile: URL, limits: ScriptLimits = .default, log: any ScriptLog) throws(ScriptError) {
        self.configFile = configFile
        self.log = log
        calls = UnsafeMutablePointer<CallState>.allocate(capacity: 1)
        calls.initialize(to: CallState(limits: limits))
        hookPackets = UnsafeMutablePointer<clua_HookPackets>.allocate(capacity: 1)
        hookPackets.initialize(to: clua_HookPackets())
        self.settings = Settings()
        limitsState = UnsafeMutablePointer<clua_Limits>.allocate(capacity: 1)
        limitsState.initialize(to: clua_Limits())
        limitsState.pointee.hook_step = 1000
        limitsState.pointee.unlimited_depth = 1 // only lua_pcall from `protectedCall` runs capped
        limitsState.pointee.limit = limits.memoryBytes > 0 ? Int(limits.memoryBytes) : 0
        running = UnsafeMutablePointer<LuaState>.allocate(capacity: 1)
        guard let state = clua_newstate(limitsState) else {
            Self.release(running: running, limits: limitsState, calls: calls, hookPackets: hookPackets)
            throw ScriptError(.memory, "could not create a Lua state")
        }
        mainState = state
        running.initialize(to: state)
        let slot = clua_getextraspace(L)!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        slot.pointee = Unmanaged.passUnretained(self).toOpaque()
        luaL_openlibs(L)
        // Generational collection: each hook call leaves a little young garbage (argument strings,
        // the definition userdata, meta tables), which minor collections reclaim without walking
        // the whole state, as the incremental collector's cycles did.
        clua_generational_gc(L)
        try installGlobals()
        try runTopLevel()
        try readSettingsAndHooks(strictHooks: true)
    }

    deinit {
        lua_close(mainState)
        Self.release(running: running, limits: limitsState, calls: calls, hookPackets: hookPackets)
    }

    /// Frees what the initialiser allocated besides the Lua state: at the end, or when no state
    /// could be created.
    private static func release(
        running: UnsafeMutablePointer<LuaState>, limits: UnsafeMutablePointer<clua_Limits>,
        calls: UnsafeMutablePointer<CallState>, hookPackets: UnsafeMutablePointer<clua_HookPackets>
    ) {
        running.deallocate()
        clua_arena_release(&limits.pointee.arena)
        limits.deallocate()
        calls.deinitialize(count: 1)
        calls.deallocate()
        hookPackets.deallocate()
    }

    /// The runtime whose state `L` is (stored in the state's extra space).
    @inline(__always) static func from(_ L: LuaState) -> ScriptRuntime {
        let slot = clua_getextraspace(L)!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        return Unmanaged<ScriptRuntime>.fromOpaque(slot.pointee!).takeUnretainedValue()
    }

    // MARK: - Loading

    private func runTopLevel() throws(ScriptError) {
        let directory = configFile.deletingLastPathComponent().path
        setPackagePath(directory: directory)
        let status = configFile.path.withCString { clua_loadfile(L, $0) }
        guard status == LUA_OK else {
            let message = stringValue(L, -1) ?? "unknown error"
            clua_pop(L, 1)
            throw ScriptError(status == LUA_ERRSYNTAX ? .syntax : .runtime, "\(configFile.path): \(message)")
        }
        try protectedCall(arguments: 0, results: 0, what: "conf.lua")
    }

    private func setPackagePath(directory: String) {
        let extensions = directory + "/staticDHCPd_extensions"
        let prefix = "\(extensions)/?.lua;\(extensions)/?/init.lua;\(directory)/?.lua;\(directory)/?/init.lua;"
        clua_getglobal(L, "package")
        lua_getfield(L, -1, "path")
        let current = stringValue(L, -1) ?? ""
        clua_pop(L, 1)
        pushString(L, prefix + current)
        lua_setfield(L, -2, "path")
        clua_pop(L, 1)
    }

    /// Reads every upper-case global into settings and records which hooks exist.
    private func readSettingsAndHooks(strictHooks: Bool) throws(ScriptError) {
        var globals: [String: ScriptValue] = [:]
        lua_rawgeti(L, clua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if let name = stringValue(L, -2), Self.isSettingName(name) {
                globals[name] = ScriptValue.read(L, -1)
            }
            clua_pop(L, 1)
        }
        clua_pop(L, 1)
        var problems: [String] = []
        do {
            settings = try Settings.validate(globals)
        } catch {
            problems += error.problems
        }
        for (index, name) in HookPresence.names.enumerated() {
            let type = clua_getglobal(L, name)
            if type == LUA_TFUNCTION {
                calls.pointee.hookRefs[index] = clua_ref(L)
            } else {
                if type != LUA_TNIL {
                    problems.append("\(name): expected a function (the \(name) hook), found \(typeName(L, -1))")
                }
                clua_pop(L, 1)
            }
        }
        calls.pointee.hooks.initialise = calls.pointee.hookRefs[0] != LUA_NOREF
        calls.pointee.hooks.filterPacket = calls.pointee.hookRefs[1] != LUA_NOREF
        calls.pointee.hooks.handleUnknownMAC = calls.pointee.hookRefs[2] != LUA_NOREF
        calls.pointee.hooks.filterRetrievedDefinitions = calls.pointee.hookRefs[3] != LUA_NOREF
        calls.pointee.hooks.loadDHCPPacket = calls.pointee.hookRefs[4] != LUA_NOREF
        guard problems.isEmpty else { throw ScriptError(.settings, problems) }
        for warning in settings.warnings { log.log(.warning, logger: "conf", warning) }
        warnAboutHookTypos()
        limits = settings.limits
        limitsState.pointee.limit = limits.memoryBytes > 0 ? Int(limits.memoryBytes) : 0
    }

    static func isSettingName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first >= 65, first <= 90 else { return false }
        return name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    // MARK: - Calling into Lua

    /// Marks the start of a call from the serial executor; traps overlapping callers in debug builds.
    @inline(__always) func enter() {
        #if DEBUG
        let (exchanged, _) = busy.compareExchange(expected: false, desired: true, ordering: .acquiring)
        precondition(exchanged, "ScriptRuntime used from two executors at once; calls must be serialised")
        #endif
    }

    @inline(__always) func leave() {
        #if DEBUG
        busy.store(false, ordering: .releasing)
        #endif
    }

    /// Calls the function below `arguments` values on the stack with the traceback handler, the
    /// instruction/time budget and the memory cap. On success `results` values are left on the
    /// stack; on failure nothing is, and the error says what happened.
    func protectedCall(arguments: Int32, results: Int32, what: String) throws(ScriptError) {
        let functionIndex = lua_gettop(L) - arguments
        clua_pushtraceback_handler(L)
        clua_insert(L, functionIndex)
        try protectedCall(arguments: arguments, results: results, what: what, handler: functionIndex)
        clua_remove(L, functionIndex)
    }

    /// Pushes the traceback handler and returns its index: the hooks push it before their function
    /// and arguments, which spares the two stack rotations of slipping it in underneath afterwards.
    @inline(__always) func pushHandler() -> Int32 {
        clua_pushtraceback_handler(L)
        return lua_gettop(L)
    }

    /// `protectedCall` with the handler already at `handler`, just below the function. On success
    /// the handler stays below the results (the caller pops it with them); on failure the stack is
    /// cut back to below the handler.
    func protectedCall(arguments: Int32, results: Int32, what: String, handler: Int32) throws(ScriptError) {
        clua_arm_budget(L, Int64(limits.instructions), limits.seconds)
        limitsState.pointee.unlimited_depth = 0
        let status = clua_pcall(L, arguments, results, handler)
        limitsState.pointee.unlimited_depth = 1
        if status == LUA_OK { return }
        let tripped = limitsState.pointee.tripped
        let message = stringValue(L, -1) ?? "(no message)"
        lua_settop(L, handler - 1)
        throw callFailure(status: status, tripped: tripped, message: message, what: what)
    }

    /// The error of a call into Lua that ended with `status`; collects garbage after running out
    /// of memory (or nearly), so that the next call starts with room.
    func callFailure(status: Int32, tripped: Int32, message: String, what: String) -> ScriptError {
        if status == LUA_ERRMEM || limitsState.pointee.used > limitsState.pointee.limit / 10 * 9 {
            clua_fullgc(L)
        }
        let kind: ScriptError.Kind = tripped != 0 ? .limit : status == LUA_ERRMEM ? .memory : .runtime
        let detail = status == LUA_ERRMEM
            ? "not enough memory (the Lua state is capped at \(limits.memoryBytes) bytes by LUA_MEMORY_LIMIT)" : message
        return ScriptError(kind, "\(what): \(detail)")
    }

    /// Pushes the function held by a registry reference.
    @inline(__always) func pushRef(_ ref: Int32) { _ = clua_getref(L, ref) }

    /// Bytes the Lua state holds now, and its high-water mark.
    public var memoryInUse: Int { Int(limitsState.pointee.used) }
    public var memoryPeak: Int { Int(limitsState.pointee.peak) }

    // MARK: - init()

    /// Calls conf.lua's `init()` if it exists (after the server's subsystems are configured).
    public func callInit() throws(ScriptError) {
        guard hooks.initialise else { return }
        enter()
        defer { leave() }
        let saved = limits
        // init() does the run-once work: it gets ten times the per-hook budget.
        limits = ScriptLimits(instructions: saved.instructions * 10, seconds: saved.seconds * 10, memoryBytes: saved.memoryBytes)
        defer { limits = saved }
        pushRef(calls.pointee.hookRefs[0])
        try protectedCall(arguments: 0, results: 0, what: "init()")
    }

    /// Logs on behalf of the runtime.
    func report(_ level: LogLevel, _ message: String) {
        log.log(level, logger: "conf", message)
    }
}
