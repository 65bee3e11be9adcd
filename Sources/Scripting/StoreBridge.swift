import CLua
import Databases
import Synchronization

// The `store` global: a persistent key-value store for scripts (docs/SCRIPTING.md, "store").
//   store.get(key) -> value or nil          store.put(key, value)
//   store.gets(key) -> value, token (nil, nil when absent; the token is for store.cas)
//   store.getMany({key, ...}) -> {key = value}, {key = token}  (one round trip)
//   store.cas(key, value, token) -> true, new token | false, current value, current token
//   store.delete(key) -> existed            store.scan(prefix[, limit]) -> { {key=, value=}, ... }
//   store.update(key, function(old) return new end) -> new   (atomic; nil deletes)
//   store.transaction(function() ... end[, mode]) -> the function's results (atomic; an error rolls back)
//   store.count() -> number of keys         store.path -> the SQLite file, or nil when closed
//   store.engine -> "SQLite" or "PostgreSQL" (STORE_ENGINE)
//   store.waiting() -> hooks of this daemon waiting on the shared store now (0 with SQLite)
// It opens once the settings are read (STATE_DIRECTORY, STORE_ENGINE), so conf.lua's top level
// cannot use it; init(), hooks and callbacks can.
//
// With a remote store (STORE_ENGINE = "PostgreSQL", RemoteStoreBridge.swift) every call is a
// round trip: inside a hook it suspends the hook's coroutine; anywhere else it waits, bounded by
// DATABASE_TIMEOUT. store.transaction and store.update are then written in Lua over begin/finish
// primitives, so that the function they run may itself suspend.

extension ScriptRuntime {
    /// Gives the scripts their store (the daemon opens it in STATE_DIRECTORY before `init()`).
    public func attachStore(_ store: KeyValueStore) {
        self.store = store
        setStoreFields(path: store.path, engine: "SQLite")
    }

    /// Sets `store.path` and `store.engine`. Raw access: conf.lua may have replaced `store` or
    /// given it a metatable, and a Lua error here would unwind through Swift.
    func setStoreFields(path: String, engine: String) {
        lua_rawgeti(L, clua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        pushString(L, "store")
        if lua_rawget(L, -2) == LUA_TTABLE {
            for (name, value) in [("path", path), ("engine", engine)] {
                pushString(L, name)
                pushString(L, value)
                lua_rawset(L, -3)
            }
        }
        clua_pop(L, 2)
    }

    func installStore() {
        lua_createtable(L, 0, 8)
        setFunction(L, "get", storeGet)
        setFunction(L, "gets", storeGets)
        setFunction(L, "getMany", storeGetMany)
        setFunction(L, "cas", storeCompareAndSet)
        setFunction(L, "put", storePut)
        setFunction(L, "delete", storeDelete)
        setFunction(L, "scan", storeScan)
        setFunction(L, "update", storeUpdate)
        setFunction(L, "transaction", storeTransaction)
        setFunction(L, "count", storeCount)
        setFunction(L, "waiting", storeWaiting)
        clua_setglobal(L, "store")
    }

    /// Calls the function at `index` with `arguments` values pushed above it, inside the store's
    /// transaction; leaves `results` values (or all of them with LUA_MULTRET) on the stack.
    /// Memory is capped again while the callback runs (Swift frames are not on its path).
    func callInsideStore(_ L: LuaState, arguments: Int32, results: Int32) throws(LuaArgumentError) {
        limitsState.pointee.unlimited_depth -= 1
        let status = clua_pcall(L, arguments, results, 0)
        limitsState.pointee.unlimited_depth += 1
        guard status == LUA_OK else {
            let message = stringValue(L, -1) ?? "(error object is a \(typeName(L, -1)) value)"
            clua_pop(L, 1)
            throw LuaArgumentError(message)
        }
    }
}

/// Where a store call goes.
enum OpenStore {
    case local(KeyValueStore)
    case remote(any RemoteStore, ScriptRuntime)
}

private func openStore(_ L: LuaState) throws(LuaArgumentError) -> OpenStore {
    let runtime = ScriptRuntime.from(L)
    if let remote = runtime.remoteStore { return .remote(remote, runtime) }
    guard let store = runtime.store else {
        throw LuaArgumentError("the store is not open yet: it opens once the settings are read (STATE_DIRECTORY), so use it from init(), hooks and callbacks, not from conf.lua's top level")
    }
    return .local(store)
}

private func storeKey(_ L: LuaState) throws(LuaArgumentError) -> String {
    guard lua_type(L, 1) == LUA_TSTRING, let key = stringValue(L, 1) else {
        throw LuaArgumentError("the key must be a string, got \(describe(L, 1))")
    }
    guard !key.isEmpty else { throw LuaArgumentError("the key must not be empty") }
    return key
}

/// Runs a store call, turning store failures into Lua errors.
private func storeCall<T>(_ body: () throws(StoreError) -> T) throws(LuaArgumentError) -> T {
    do { return try body() } catch { throw LuaArgumentError(error.message) }
}

/// One store operation on whichever store is open: `local` on the daemon's own file, or `request`
/// to the shared store, whose answer `answered` reads (nil: an answer of another kind, an error).
/// Either way `push` gives the script the result and says how many values it pushed.
private func perform<Value>(
    _ L: LuaState, local: (KeyValueStore) throws(StoreError) -> Value, remote request: StoreRequest,
    answered: @escaping (StoreAnswer) -> Value?, push: @escaping (LuaState, Value) throws(LuaArgumentError) -> Int32
) throws(LuaArgumentError) -> Int32 {
    switch try openStore(L) {
    case .local(let store):
        return try push(L, try storeCall { () throws(StoreError) in try local(store) })
    case .remote(let store, let runtime):
        return try runtime.remoteCall(L, store, request) { (L, answer) throws(LuaArgumentError) in
            guard let value = answered(answer) else { throw LuaArgumentError("unexpected answer \(answer)") }
            return try push(L, value)
        }
    }
}

private func pushStored(_ L: LuaState, _ text: String?, key: String) throws(LuaArgumentError) {
    guard let text else { lua_pushnil(L); return }
    do { try StoreCodec.decode(L, text) } catch {
        throw LuaArgumentError("key \"\(key)\": \(error.message)")
    }
}

private let storeGet: LuaFunction = { L in
    luaEntry(L, "store.get") { L in try get(L, withToken: false) }
}

private let storeGets: LuaFunction = { L in
    luaEntry(L, "store.gets") { L in try get(L, withToken: true) }
}

/// store.get and store.gets: the value, and for gets its token.
private func get(_ L: LuaState, withToken: Bool) throws(LuaArgumentError) -> Int32 {
    let key = try storeKey(L)
    let push = { (L: LuaState, text: String?) throws(LuaArgumentError) -> Int32 in
        if withToken { return try pushVersioned(L, text, key: key) }
        try pushStored(L, text, key: key)
        return 1
    }
    return try perform(L, local: { (store) throws(StoreError) in try store.get(key) }, remote: .get(key),
                       answered: { if case .value(let text) = $0 { text } else { nil } }, push: push)
}

private let storePut: LuaFunction = { L in
    luaEntry(L, "store.put") { L in
        let key = try storeKey(L)
        guard lua_type(L, 2) != LUA_TNIL, lua_type(L, 2) != LUA_TNONE else {
            throw LuaArgumentError("the value for \"\(key)\" is nil; use store.delete(key) to remove a key")
        }
        let text = try StoreCodec.encode(L, 2)
        return try perform(L, local: { (store) throws(StoreError) in try store.put(key, text) }, remote: .put(key, text),
                           answered: { _ in () }, push: { (_, _) throws(LuaArgumentError) in 0 })
    }
}

private let storeDelete: LuaFunction = { L in
    luaEntry(L, "store.delete") { L in
        let key = try storeKey(L)
        return try perform(L, local: { (store) throws(StoreError) in try store.delete(key) }, remote: .delete(key),
                           answered: { if case .existed(let existed) = $0 { existed } else { nil } }) { L, existed in
            lua_pushboolean(L, existed ? 1 : 0)
            return 1
        }
    }
}

private let storeCount: LuaFunction = { L in
    luaEntry(L, "store.count") { L in
        return try perform(L, local: { (store) throws(StoreError) in try store.count() }, remote: .count,
                           answered: { if case .count(let count) = $0 { count } else { nil } }) { L, count in
            lua_pushinteger(L, lua_Integer(count))
            return 1
        }
    }
}

private let storeScan: LuaFunction = { L in
    luaEntry(L, "store.scan") { L in
        let prefix: String
        switch lua_type(L, 1) {
        case LUA_TNONE, LUA_TNIL: prefix = ""
        case LUA_TSTRING: prefix = stringValue(L, 1) ?? ""
        default: throw LuaArgumentError("the prefix must be a string or nil, got \(describe(L, 1))")
        }
        var limit: Int?
        if lua_type(L, 2) != LUA_TNONE, lua_type(L, 2) != LUA_TNIL {
            guard let value = integerValue(L, 2), value >= 0 else {
                throw LuaArgumentError("the limit must be a non-negative integer, got \(describe(L, 2))")
            }
            limit = value
        }
        return try perform(
            L, local: { (store) throws(StoreError) in try store.scan(prefix: prefix, limit: limit).map { StoreRow(key: $0.key, value: $0.value) } },
            remote: .scan(prefix: prefix, limit: limit), answered: { if case .rows(let rows) = $0 { rows } else { nil } }, push: pushRows)
    }
}

/// Pushes scan results as { {key=, value=}, ... }.
private func pushRows(_ L: LuaState, _ rows: [StoreRow]) throws(LuaArgumentError) -> Int32 {
    guard lua_checkstack(L, 6) != 0 else { throw LuaArgumentError("Lua stack exhausted") }
    lua_createtable(L, Int32(rows.count), 0)
    for (position, row) in rows.enumerated() {
        lua_createtable(L, 0, 2)
        pushString(L, row.key)
        lua_setfield(L, -2, "key")
        try pushStored(L, row.value, key: row.key)
        lua_setfield(L, -2, "value")
        pushString(L, row.value)
        lua_setfield(L, -2, "token")
        lua_rawseti(L, -2, lua_Integer(position + 1))
    }
    return 1
}

private let storeUpdate: LuaFunction = { L in
    luaEntry(L, "store.update") { L in
        guard case .local(let store) = try openStore(L) else {
            throw LuaArgumentError("the remote store's update is written in Lua; this one is for SQLite")
        }
        let key = try storeKey(L)
        guard lua_type(L, 2) == LUA_TFUNCTION else {
            throw LuaArgumentError("the second argument must be a function(old) returning the new value, got \(describe(L, 2))")
        }
        let runtime = ScriptRuntime.from(L)
        lua_settop(L, 2)
        do {
            try store.transaction { () throws in
                let old = try storeCall { () throws(StoreError) in try store.get(key) }
                lua_pushvalue(L, 2)
                try pushStored(L, old, key: key)
                try runtime.callInsideStore(L, arguments: 1, results: 1)
                if lua_type(L, 3) == LUA_TNIL {
                    try storeCall { () throws(StoreError) in _ = try store.delete(key) }
                } else {
                    let text = try StoreCodec.encode(L, 3)
                    try storeCall { () throws(StoreError) in try store.put(key, text) }
                }
            }
        } catch let error as LuaArgumentError {
            lua_settop(L, 2)
            throw LuaArgumentError("\"\(key)\" was left unchanged: \(error.message)")
        }
        return 1 // the new value (or nil), at index 3
    }
}

private let storeTransaction: LuaFunction = { L in
    luaEntry(L, "store.transaction") { L in
        guard case .local(let store) = try openStore(L) else {
            throw LuaArgumentError("the remote store's transaction is written in Lua; this one is for SQLite")
        }
        guard lua_type(L, 1) == LUA_TFUNCTION else {
            throw LuaArgumentError("the argument must be a function, got \(describe(L, 1))")
        }
        let runtime = ScriptRuntime.from(L)
        switch lua_type(L, 2) {
        case LUA_TNONE, LUA_TNIL: break
        case LUA_TSTRING where ["serializable", "snapshot"].contains(stringValue(L, 2) ?? ""):
            break // one SQLite file serialises every writer: both modes are the same here
        default:
            throw LuaArgumentError("the mode must be \"serializable\" (the default) or \"snapshot\", got \(describe(L, 2))")
        }
        lua_settop(L, 1)
        do {
            try store.transaction { () throws in
                lua_pushvalue(L, 1)
                try runtime.callInsideStore(L, arguments: 0, results: LUA_MULTRET)
            }
        } catch let error as LuaArgumentError {
            lua_settop(L, 1)
            throw LuaArgumentError("rolled back: \(error.message)")
        }
        return lua_gettop(L) - 1
    }
}

// Versions: a value's token is the text it is stored as, so a compare-and-set needs no version
// column and works the same on SQLite and PostgreSQL (docs/SCRIPTING.md, "store.cas"). Two
// writes of equal values share a token, which is harmless: the decision made on one holds for
// the other.

/// Pushes a stored value and its token (nil, nil when absent).
private func pushVersioned(_ L: LuaState, _ text: String?, key: String) throws(LuaArgumentError) -> Int32 {
    try pushStored(L, text, key: key)
    if let text { pushString(L, text) } else { lua_pushnil(L) }
    return 2
}

/// The keys of the table at index 1 (a list of non-empty strings).
private func storeKeys(_ L: LuaState) throws(LuaArgumentError) -> [String] {
    guard lua_type(L, 1) == LUA_TTABLE else {
        throw LuaArgumentError("the argument must be a list of keys, got \(describe(L, 1))")
    }
    var keys: [String] = []
    let count = Int(lua_rawlen(L, 1))
    guard count <= 1000 else { throw LuaArgumentError("at most 1000 keys at once, got \(count)") }
    for index in stride(from: 1, through: count, by: 1) {
        lua_rawgeti(L, 1, lua_Integer(index))
        defer { clua_pop(L, 1) }
        guard lua_type(L, -1) == LUA_TSTRING, let key = stringValue(L, -1), !key.isEmpty else {
            throw LuaArgumentError("key \(index) must be a non-empty string, got \(describe(L, -1))")
        }
        keys.append(key)
    }
    return keys
}

/// Pushes {key = value} and {key = token}.
private func pushValues(_ L: LuaState, _ values: [String: String]) throws(LuaArgumentError) -> Int32 {
    guard lua_checkstack(L, 6) != 0 else { throw LuaArgumentError("Lua stack exhausted") }
    lua_createtable(L, 0, Int32(values.count))
    lua_createtable(L, 0, Int32(values.count))
    for (key, text) in values {
        pushString(L, key)
        try pushStored(L, text, key: key)
        lua_rawset(L, -4)
        pushString(L, key)
        pushString(L, text)
        lua_rawset(L, -3)
    }
    return 2
}

private let storeGetMany: LuaFunction = { L in
    luaEntry(L, "store.getMany") { L in
        let keys = try storeKeys(L)
        switch try openStore(L) {
        case .local(let store):
            return try pushValues(L, try storeCall { () throws(StoreError) in try store.getMany(keys) })
        case .remote(let store, let runtime):
            if keys.isEmpty { return try pushValues(L, [:]) }
            return try runtime.remoteCall(L, store, .getMany(keys)) { (L, answer) throws(LuaArgumentError) in
                guard case .values(let values) = answer else { throw LuaArgumentError("unexpected answer \(answer)") }
                return try pushValues(L, values)
            }
        }
    }
}

/// store.cas(key, value, token [, alsoKey, alsoValue]): true and the new token when it wrote;
/// false, the current value and its token when the key no longer holds what `token` says. With
/// `alsoKey`, `alsoValue` is put there too when (only when) it writes, atomically and in the same
/// round trip.
private let storeCompareAndSet: LuaFunction = { L in
    luaEntry(L, "store.cas") { L in
        let key = try storeKey(L)
        let value: String? = lua_type(L, 2) == LUA_TNIL || lua_type(L, 2) == LUA_TNONE ? nil : try StoreCodec.encode(L, 2)
        let expected: String?
        switch lua_type(L, 3) {
        case LUA_TNIL, LUA_TNONE: expected = nil
        case LUA_TSTRING: expected = stringValue(L, 3)
        default: throw LuaArgumentError("the token must be a string from store.get, getMany, scan or cas (or nil: the key must be absent), got \(describe(L, 3))")
        }
        var alsoPut: StoreRow?
        switch lua_type(L, 4) {
        case LUA_TNIL, LUA_TNONE: break
        case LUA_TSTRING:
            guard let alsoKey = stringValue(L, 4), !alsoKey.isEmpty else { throw LuaArgumentError("the key to put along must not be empty") }
            guard lua_type(L, 5) != LUA_TNIL && lua_type(L, 5) != LUA_TNONE else {
                throw LuaArgumentError("the key to put along (\(alsoKey)) needs a value (the fifth argument)")
            }
            alsoPut = StoreRow(key: alsoKey, value: try StoreCodec.encode(L, 5))
        default: throw LuaArgumentError("the key to put along must be a string, got \(describe(L, 4))")
        }
        let push = { (L: LuaState, swapped: Bool, current: String?) throws(LuaArgumentError) -> Int32 in
            lua_pushboolean(L, swapped ? 1 : 0)
            if swapped {
                if let value { pushString(L, value) } else { lua_pushnil(L) }
                return 2
            }
            return 1 + (try pushVersioned(L, current, key: key))
        }
        return try perform(
            L, local: { (store) throws(StoreError) in try store.swap(key, value: value, expected: expected, alsoPut: alsoPut) },
            remote: .swap(key: key, value: value, expected: expected, alsoPut: alsoPut),
            answered: { if case .swapped(let swapped, let current) = $0 { (swapped, current) } else { nil } }
        ) { (L, answer) throws(LuaArgumentError) in try push(L, answer.0, answer.1) }
    }
}

/// store.waiting(): how many hooks of this daemon wait on a round trip to the shared store right
/// now. A script can refuse new work when it is high, so that the requests already waiting are
/// answered in time instead of everyone being late (dynamism sheds new DISCOVERs this way).
private let storeWaiting: LuaFunction = { L in
    luaEntry(L, "store.waiting") { L in
        lua_pushinteger(L, lua_Integer(ScriptRuntime.from(L).waitingHooks.load(ordering: .relaxed)))
        return 1
    }
}
