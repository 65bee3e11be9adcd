import CLua
import Databases
import DHCPWire
import Foundation

// Hooks that wait on the store (docs/ARCHITECTURE.md, "Hooks that wait").
//
// With a local store (SQLite) every store call answers on the spot and a hook is one protected
// call, as it always was. With a remote store (STORE_ENGINE = "PostgreSQL") a hook runs as a Lua
// coroutine instead: a store call yields (from C, see CLUA_YIELD in shim.h) with the round trip
// it needs, the hook returns `.suspended`, and the engine serves other packets until the answer
// comes and it calls `SuspendedCall.resume()` on the same serial executor. One Lua state, one
// executor: only one coroutine runs at a time, and none runs while Swift code does.

/// A hook call's outcome: its value, or a call that waits on a store round trip.
public enum HookRun<Value> {
    case done(Value)
    case suspended(SuspendedCall<Value>)

    /// The value of a call that did not suspend (always so with a local store).
    public var value: Value? {
        if case .done(let value) = self { return value }
        return nil
    }
}

/// What a store round trip brings back to the coroutine that asked for it.
enum StoreOutcome: Sendable {
    case answer(StoreAnswer)
    case began(any RemoteStoreTransaction)
    case finished(committed: Bool, conflicted: Bool)
}

/// The round trip a suspended coroutine waits for (made by the store function that yielded), and
/// how its answer is pushed back when the coroutine goes on.
final class PendingStoreCall: @unchecked Sendable {
    /// Runs on its caller's executor (see SuspendedCall.wait).
    let operation: nonisolated(nonsending) @Sendable () async throws -> StoreOutcome
    /// Pushes the results of the store call for `outcome`; runs on the executor.
    let push: (LuaState, StoreOutcome) throws(LuaArgumentError) -> Int32
    var outcome: Result<StoreOutcome, any Error>?

    init(operation: nonisolated(nonsending) @escaping @Sendable () async throws -> StoreOutcome,
         push: @escaping (LuaState, StoreOutcome) throws(LuaArgumentError) -> Int32) {
        self.operation = operation
        self.push = push
    }

    /// Pushes (true, results...) or (false, message) for clua_resumed; returns how many values.
    func pushOutcome(_ L: LuaState, what: String) -> Int32 {
        // The yielded function's frame lies below: clua_resumed finds the answer above it.
        let top = lua_gettop(L)
        do {
            guard let outcome else { throw LuaArgumentError("\(what): resumed without an answer") }
            let value = try outcome.get()
            lua_pushboolean(L, 1)
            return try push(L, value) + 1
        } catch let error as LuaArgumentError {
            lua_settop(L, top)
            lua_pushboolean(L, 0)
            pushString(L, "\(what): \(error.message)")
        } catch {
            lua_settop(L, top)
            lua_pushboolean(L, 0)
            pushString(L, "\(what): \(error)")
        }
        return 2
    }
}

/// A hook suspended on a store round trip. `wait()` performs the round trip off the executor;
/// `resume()`, back on the executor, goes on with the hook until it finishes or waits again.
///
/// It keeps its own copies of the hook's packets while it waits (the caller's variables are
/// gone by then); `primary` is the hook's packet as the script left it once the hook finished.
public final class SuspendedCall<Value>: @unchecked Sendable {
    let runtime: ScriptRuntime
    let thread: LuaState
    let threadRef: Int32
    let what: String
    let read: (ScriptRuntime) throws(ScriptError) -> Value
    /// How many results `read` takes.
    let results: Int32
    var pending: PendingStoreCall
    /// The hook's packet (slot 0) and, for loadDHCPPacket, its source packet (slot 1).
    public private(set) var primary: DHCPPacket
    var source: DHCPPacket?
    let tokens: (UInt, UInt)
    let requestID: UInt64
    var instructionsUsed: Int64

    init(runtime: ScriptRuntime, thread: LuaState, threadRef: Int32, what: String,
         read: @escaping (ScriptRuntime) throws(ScriptError) -> Value, results: Int32, pending: PendingStoreCall,
         primary: DHCPPacket, source: DHCPPacket?, tokens: (UInt, UInt), requestID: UInt64, instructionsUsed: Int64) {
        self.runtime = runtime
        self.thread = thread
        self.threadRef = threadRef
        self.what = what
        self.read = read
        self.results = results
        self.pending = pending
        self.primary = primary
        self.source = source
        self.tokens = tokens
        self.requestID = requestID
        self.instructionsUsed = instructionsUsed
        runtime.waitingHooks.add(1, ordering: .relaxed)
    }

    deinit { runtime.waitingHooks.subtract(1, ordering: .relaxed) }

    /// Performs the round trip the hook asked for. Never touches Lua.
    public nonisolated(nonsending) func wait() async {
        let operation = pending.operation
        do {
            pending.outcome = .success(try await operation())
        } catch {
            pending.outcome = .failure(error)
        }
    }

    /// Goes on with the hook on the runtime's executor, with the answer `wait()` brought.
    public func resume() throws(ScriptError) -> HookRun<Value> {
        runtime.enter()
        defer { runtime.leave() }
        var source = self.source ?? DHCPPacket()
        let hasSource = self.source != nil
        defer { if hasSource { self.source = source } }
        return try runtime.rebind(&primary, slot: 0, token: tokens.0, requestID: requestID) { () throws(ScriptError) -> HookRun<Value> in
            try runtime.rebind(&source, slot: 1, token: hasSource ? tokens.1 : 0, requestID: requestID) { () throws(ScriptError) -> HookRun<Value> in
                let count = pending.pushOutcome(thread, what: "store")
                return try runtime.continueCoroutine(
                    thread, ref: threadRef, arguments: count, what: what, instructionsUsed: instructionsUsed,
                    results: results, read: read, previous: self)
            }
        }
    }

    /// Gives up on the hook without resuming it (the engine dropped its request): closes the
    /// coroutine and rolls back a transaction it left open, so neither outlives the request.
    /// Call it on the runtime's executor, instead of `resume()`, at most once.
    public func abandon() {
        runtime.failCoroutine(thread, ref: threadRef)
    }

    /// The coroutine waits again, on another round trip.
    func waitAgain(on pending: PendingStoreCall, instructionsUsed: Int64) {
        self.pending = pending
        self.instructionsUsed = instructionsUsed
    }
}

extension ScriptRuntime {
    /// Whether hooks run as coroutines (a remote store is attached).
    var hooksMaySuspend: Bool { remoteStore != nil }

    /// Runs the hook function below `arguments` values on the stack (the traceback handler at
    /// `handler` below it) and reads its one result with `read`. With a local store this is the
    /// protected call every hook always made; with a remote store, a coroutine that may suspend.
    func runHook<Value>(
        arguments: Int32, handler: Int32, what: String, results: Int32 = 1,
        read: @escaping (ScriptRuntime) throws(ScriptError) -> Value
    ) throws(ScriptError) -> HookRun<Value> {
        guard hooksMaySuspend else {
            try protectedCall(arguments: arguments, results: results, what: what, handler: handler)
            defer { clua_pop(L, results + 1) } // the results and the handler
            return .done(try read(self))
        }
        let (thread, ref) = takeThread()
        lua_xmove(L, thread, arguments + 1)
        clua_pop(L, 1) // the handler: a coroutine's traceback is taken from the coroutine itself
        return try continueCoroutine(thread, ref: ref, arguments: arguments, what: what, instructionsUsed: 0,
                                     results: results, read: read, previous: nil)
    }

    /// Starts or resumes `thread` with `arguments` values on its stack, and reports how it stopped.
    func continueCoroutine<Value>(
        _ thread: LuaState, ref: Int32, arguments: Int32, what: String, instructionsUsed: Int64,
        results wanted: Int32, read: @escaping (ScriptRuntime) throws(ScriptError) -> Value, previous: SuspendedCall<Value>?
    ) throws(ScriptError) -> HookRun<Value> {
        clua_arm_budget(thread, Int64(limits.instructions), limits.seconds)
        limitsState.pointee.instructions = instructionsUsed
        let previousThread = suspendableThread
        suspendableThread = thread
        var results: Int32 = 0
        let main = L
        running.pointee = thread
        let status = clua_resume(thread, main, arguments, &results)
        running.pointee = main
        suspendableThread = previousThread
        switch status {
        case LUA_OK:
            endTransaction(of: thread)
            lua_settop(thread, wanted) // a finished coroutine's stack holds only its results
            lua_xmove(thread, L, wanted)
            giveBack(thread, ref: ref)
            defer { clua_pop(L, wanted) }
            return .done(try read(self))
        case LUA_YIELD:
            let used = limitsState.pointee.instructions
            guard let pending = pendingStoreCall else {
                failCoroutine(thread, ref: ref)
                throw ScriptError(.runtime, "\(what): a hook may not yield (coroutine.yield) outside a coroutine of its own")
            }
            pendingStoreCall = nil
            if let previous {
                previous.waitAgain(on: pending, instructionsUsed: used)
                return .suspended(previous)
            }
            let slots = (calls.pointee.primary, calls.pointee.source)
            return .suspended(SuspendedCall(
                runtime: self, thread: thread, threadRef: ref, what: what, read: read, results: wanted, pending: pending,
                primary: slots.0.packet?.pointee ?? DHCPPacket(), source: slots.1.packet?.pointee,
                tokens: (slots.0.token, slots.1.token), requestID: slots.0.requestID, instructionsUsed: used))
        default:
            let tripped = limitsState.pointee.tripped
            clua_coroutine_traceback(L, thread)
            let message = stringValue(L, -1) ?? "(no message)"
            clua_pop(L, 1)
            failCoroutine(thread, ref: ref)
            throw callFailure(status: status, tripped: tripped, message: message, what: what)
        }
    }

    /// An idle coroutine thread, or a new one (anchored in the registry by `ref`).
    private func takeThread() -> (LuaState, Int32) {
        if let idle = idleThreads.popLast() { return idle }
        let thread = lua_newthread(L)!
        return (thread, clua_ref(L))
    }

    /// A thread that finished normally can run the next hook (its stack is empty again).
    private func giveBack(_ thread: LuaState, ref: Int32) {
        lua_settop(thread, 0)
        if idleThreads.count < 16 {
            idleThreads.append((thread, ref))
        } else {
            clua_unref(L, ref)
        }
    }

    func failCoroutine(_ thread: LuaState, ref: Int32) {
        endTransaction(of: thread)
        _ = lua_resetthread(thread)
        clua_unref(L, ref)
    }

    /// Rolls back, in the background, a transaction a coroutine left open (it failed inside).
    func endTransaction(of thread: LuaState) {
        guard let transaction = storeTransactions.removeValue(forKey: UInt(bitPattern: thread)) else { return }
        Task { _ = try? await transaction.finish(commit: false) }
    }

    /// Binds `packet` to `slot` under `token` (a new one from `bind`, or a suspended hook's again);
    /// token 0 binds nothing.
    @inline(__always)
    func rebind<R>(_ packet: inout DHCPPacket, slot: Int, token: UInt, requestID: UInt64,
                   _ body: () throws(ScriptError) -> R) throws(ScriptError) -> R {
        guard token != 0 else { return try body() }
        return try withUnsafeMutablePointer(to: &packet) { (pointer) throws(ScriptError) -> R in
            calls.pointee[slot: slot] = PacketSlot(packet: pointer, token: token, requestID: requestID)
            hookPackets.pointee.set(slot: slot, token: token, requestID: requestID)
            defer {
                calls.pointee[slot: slot] = PacketSlot()
                hookPackets.pointee.set(slot: slot, token: 0, requestID: 0)
            }
            return try body()
        }
    }
}

extension HookRun: Sendable where Value: Sendable {}
