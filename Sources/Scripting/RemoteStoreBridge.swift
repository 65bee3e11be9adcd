import CLua
import Databases
import Dispatch
import Synchronization

// The `store` over a remote store (STORE_ENGINE = "PostgreSQL"): the consistency model is in
// docs/SCRIPTING.md, "store across daemons".

extension ScriptRuntime {
    /// How many times store.transaction runs its function when other daemons' transactions keep
    /// conflicting with it, before it gives up with an error. Between attempts it waits a random
    /// while that doubles each time (up to 1-64 ms), so that contenders stop colliding.
    public static let transactionAttempts = 10

    /// Gives the scripts their store, local or shared.
    public func attachStore(_ store: ScriptStore, timeout: Double) {
        switch store {
        case .local(let local): attachStore(local)
        case .remote(let remote): attachStore(remote, timeout: timeout)
        }
    }

    /// Gives the scripts a store shared with other daemons instead of a local one. Hooks then run
    /// as coroutines, so that a store call suspends the hook rather than the engine's thread.
    public func attachStore(_ store: any RemoteStore, timeout: Double) {
        remoteStore = store
        remoteStoreTimeout = timeout
        setStoreFields(path: store.location, engine: "PostgreSQL")
        installRemoteTransactions()
    }

    /// Replaces store.transaction and store.update with Lua functions over begin/finish, so that
    /// the function they run is part of the hook's coroutine and may suspend like any store call.
    private func installRemoteTransactions() {
        let chunk = """
            local begin, finish, inTransaction, attempts, pause, lock = ...
            local pack, unpack, pcall, error, type, tostring = table.pack, table.unpack, pcall, error, type, tostring
            local function run(fn, mode)
              if inTransaction() then return fn() end -- nested: part of the outer transaction
              for attempt = 1, attempts do
                if attempt > 1 then pause(attempt) end
                begin(mode)
                local results = pack(pcall(fn))
                if results[1] then
                  local committed, conflicted = finish(true)
                  if committed then return unpack(results, 2, results.n) end
                  if not conflicted then error("store.transaction: the commit failed; nothing was written", 2) end
                else
                  local _, conflicted = finish(false)
                  if not conflicted then error("store.transaction: rolled back: " .. tostring(results[2]), 2) end
                end
              end
              error("store.transaction: rolled back: other daemons' transactions conflicted with it " .. attempts .. " times in a row", 2)
            end
            store.transaction = function(fn, mode)
              if type(fn) ~= "function" then
                error("store.transaction: the argument must be a function, got " .. type(fn), 2)
              end
              if mode ~= nil and mode ~= "serializable" and mode ~= "snapshot" then
                error("store.transaction: the mode must be \\"serializable\\" (the default) or \\"snapshot\\", got " .. tostring(mode), 2)
              end
              return run(fn, mode or "serializable")
            end
            store.update = function(key, fn)
              if type(key) ~= "string" or key == "" then
                error("store.update: the key must be a non-empty string, got " .. type(key), 2)
              end
              if type(fn) ~= "function" then
                error("store.update: the second argument must be a function(old) returning the new value, got " .. type(fn), 2)
              end
              -- The key's lock makes concurrent updates of it wait for each other: no conflict,
              -- however hot the key (a counter every hook changes).
              local ok, result = pcall(run, function()
                lock(key)
                local new = fn(store.get(key))
                if new == nil then store.delete(key) else store.put(key, new) end
                return new
              end, "locked")
              if not ok then error("store.update: \\"" .. key .. "\\" was left unchanged: " .. tostring(result), 2) end
              return result
            end
            """
        guard clua_loadbuffer(L, chunk, chunk.utf8.count, "=store") == LUA_OK else {
            report(.error, "store: \(stringValue(L, -1) ?? "the transaction functions do not compile")")
            clua_pop(L, 1)
            return
        }
        clua_pushswiftclosure(L, unsafeBitCast(storeBegin, to: clua_SwiftFunction.self), 0)
        clua_pushswiftclosure(L, unsafeBitCast(storeFinish, to: clua_SwiftFunction.self), 0)
        clua_pushswiftclosure(L, unsafeBitCast(storeInTransaction, to: clua_SwiftFunction.self), 0)
        lua_pushinteger(L, lua_Integer(Self.transactionAttempts))
        clua_pushswiftclosure(L, unsafeBitCast(storePause, to: clua_SwiftFunction.self), 0)
        clua_pushswiftclosure(L, unsafeBitCast(storeLock, to: clua_SwiftFunction.self), 0)
        do {
            try protectedCall(arguments: 6, results: 0, what: "store")
        } catch {
            report(.error, "\(error)")
        }
    }

    /// One store operation: inside the caller's transaction when it has one.
    func remoteCall(
        _ L: LuaState, _ store: any RemoteStore, _ request: StoreRequest,
        push: @escaping (LuaState, StoreAnswer) throws(LuaArgumentError) -> Int32
    ) throws(LuaArgumentError) -> Int32 {
        let transaction = storeTransactions[UInt(bitPattern: L)]
        return try roundTrip(L, { .answer(try await store.perform(request, in: transaction)) }) { (L, outcome) throws(LuaArgumentError) in
            guard case .answer(let answer) = outcome else { throw LuaArgumentError("unexpected answer from the store") }
            return try push(L, answer)
        }
    }

    /// Performs `operation`: by suspending the hook's (or tick handler's) coroutine when `L` is
    /// one, else by waiting here (init(), web, statistics and log callbacks, or a callback Lua
    /// cannot yield across, such as a table.sort comparator). Each operation is bounded by the
    /// store's time-out.
    func roundTrip(
        _ L: LuaState, _ operation: nonisolated(nonsending) @escaping @Sendable () async throws -> StoreOutcome,
        push: @escaping (LuaState, StoreOutcome) throws(LuaArgumentError) -> Int32
    ) throws(LuaArgumentError) -> Int32 {
        if let thread = suspendableThread, thread == L, lua_isyieldable(L) != 0 {
            pendingStoreCall = PendingStoreCall(operation: operation, push: push)
            return CLUA_YIELD
        }
        let outcome = Mutex<Result<StoreOutcome, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<StoreOutcome, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        // The operation bounds itself; the extra second covers a lease that never starts.
        guard done.wait(timeout: .now() + remoteStoreTimeout + 1) == .success,
              let result = outcome.withLock({ $0 }) else {
            throw LuaArgumentError("the store did not answer within DATABASE_TIMEOUT (\(remoteStoreTimeout) s)")
        }
        switch result {
        case .success(let value): return try push(L, value)
        case .failure(let error as StoreError): throw LuaArgumentError(error.message)
        case .failure(let error): throw LuaArgumentError("\(error)")
        }
    }
}

/// begin(mode): opens a transaction for the calling coroutine ("serializable", "snapshot", or
/// "locked": read committed, for store.update under its key's lock).
private let storeBegin: LuaFunction = { L in
    luaEntry(L, "store.transaction") { L in
        let runtime = ScriptRuntime.from(L)
        guard let store = runtime.remoteStore else { throw LuaArgumentError("no remote store") }
        let key = UInt(bitPattern: L)
        guard runtime.storeTransactions[key] == nil else { throw LuaArgumentError("a transaction is already open") }
        let isolation: StoreIsolation = switch stringValue(L, 1) {
        case "snapshot": .snapshot
        case "locked": .readCommitted
        default: .serializable
        }
        return try runtime.roundTrip(L, { .began(try await store.begin(isolation)) }) { (L, outcome) throws(LuaArgumentError) in
            guard case .began(let transaction) = outcome else { throw LuaArgumentError("unexpected answer from the store") }
            ScriptRuntime.from(L).storeTransactions[UInt(bitPattern: L)] = transaction
            return 0
        }
    }
}

/// finish(commit) -> committed, conflicted: ends the calling coroutine's transaction.
private let storeFinish: LuaFunction = { L in
    luaEntry(L, "store.transaction") { L in
        let runtime = ScriptRuntime.from(L)
        let commit = lua_toboolean(L, 1) != 0
        guard let transaction = runtime.storeTransactions.removeValue(forKey: UInt(bitPattern: L)) else {
            throw LuaArgumentError("no transaction is open")
        }
        return try runtime.roundTrip(L, {
            let committed = try await transaction.finish(commit: commit)
            return .finished(committed: committed, conflicted: transaction.conflicted)
        }) { (L, outcome) throws(LuaArgumentError) in
            guard case .finished(let committed, let conflicted) = outcome else { throw LuaArgumentError("unexpected answer from the store") }
            lua_pushboolean(L, committed ? 1 : 0)
            lua_pushboolean(L, conflicted ? 1 : 0)
            return 2
        }
    }
}

/// pause(attempt): waits a random 1-2^(attempt-1) ms (at most 64), suspending a hook's coroutine.
private let storePause: LuaFunction = { L in
    luaEntry(L, "store.transaction") { L in
        let attempt = max(1, min(7, Int(clua_tointegerx(L, 1, nil))))
        let milliseconds = Int.random(in: 1...(1 << (attempt - 1)))
        return try ScriptRuntime.from(L).roundTrip(L, {
            try await Task.sleep(for: .milliseconds(milliseconds))
            return .answer(.done)
        }) { (_, _) throws(LuaArgumentError) in 0 }
    }
}

/// lock(key): holds the key's lock until the calling coroutine's transaction ends.
private let storeLock: LuaFunction = { L in
    luaEntry(L, "store.update") { L in
        let runtime = ScriptRuntime.from(L)
        guard let store = runtime.remoteStore, let key = stringValue(L, 1) else { throw LuaArgumentError("no remote store") }
        return try runtime.remoteCall(L, store, .lock(key)) { (_, _) throws(LuaArgumentError) in 0 }
    }
}

/// inTransaction() -> whether the calling coroutine has a transaction open.
private let storeInTransaction: LuaFunction = { L in
    luaEntry(L, "store.transaction") { L in
        lua_pushboolean(L, ScriptRuntime.from(L).storeTransactions[UInt(bitPattern: L)] != nil ? 1 : 0)
        return 1
    }
}
