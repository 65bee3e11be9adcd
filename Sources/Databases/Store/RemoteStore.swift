/// One operation on the scripts' `store` (docs/SCRIPTING.md, "store").
public enum StoreRequest: Sendable, Equatable {
    case get(String)
    /// Several keys in one round trip.
    case getMany([String])
    case put(String, String)
    /// Compare-and-set: writes `value` (deletes when nil) only when the key holds exactly
    /// `expected` now (is absent when nil). A value's text is its version token. `alsoPut`, when
    /// given, is written too when (and only when) the swap writes, in the same round trip and
    /// atomically with it (dynamism's address claim and its L/<mac> index).
    case swap(key: String, value: String?, expected: String?, alsoPut: StoreRow? = nil)
    case delete(String)
    /// Keys starting with the prefix, in byte order; at most `limit` when given.
    case scan(prefix: String, limit: Int?)
    case count
    /// Waits for, then holds until the transaction ends, the lock of one key, so that concurrent
    /// read-modify-writes of that key run one after another instead of failing each other.
    case lock(String)
}

/// How a remote store transaction isolates itself from other daemons'.
public enum StoreIsolation: Sendable {
    /// As if all transactions ran one after another (conflicts are retried).
    case serializable
    /// One snapshot; conflicts only when two transactions write the same key.
    case snapshot
    /// Each statement sees what is committed; for `lock`-protected read-modify-writes.
    case readCommitted
}

/// What a `StoreRequest` answers.
public enum StoreAnswer: Sendable, Equatable {
    case done
    case value(String?)
    /// The keys that exist, with their values.
    case values([String: String])
    /// Whether a `swap` wrote; when it did not, what the key holds (nil: absent).
    case swapped(Bool, current: String?)
    case existed(Bool)
    case rows([StoreRow])
    case count(Int)
}

public struct StoreRow: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A store kept on another machine (`STORE_ENGINE = "PostgreSQL"`), shared by every daemon of a
/// site. Each operation is a round trip, so the scripting layer suspends the hook that asked
/// (a Lua coroutine) and the engine serves other packets meanwhile.
///
/// Every call is bounded by the store's time-out and fails with a `StoreError` naming what
/// happened; none waits for ever.
public protocol RemoteStore: AnyObject, Sendable {
    /// Where the store lives, for messages and `store.path` ("PostgreSQL staticdhcpd_store on host:port/db").
    var location: String { get }
    /// Runs one operation: inside `transaction` when given, else on its own (autocommit).
    /// Runs on the caller's executor (it does not hop to the global one first).
    nonisolated(nonsending) func perform(_ request: StoreRequest, in transaction: (any RemoteStoreTransaction)?) async throws(StoreError) -> StoreAnswer
    /// Opens a transaction on a connection of its own.
    func begin(_ isolation: StoreIsolation) async throws(StoreError) -> any RemoteStoreTransaction
    /// Stops using the server (a reload moved the store elsewhere, or the daemon stops).
    func shutdown()
}

/// An open transaction of a `RemoteStore`.
public protocol RemoteStoreTransaction: AnyObject, Sendable {
    /// True once the server refused a statement because another transaction conflicted with this
    /// one (a serialization failure or a deadlock): it must be rolled back and run again.
    var conflicted: Bool { get }
    /// Commits (`commit`) or rolls back, and gives the connection back. Returns whether it
    /// committed: false after a rollback, and when the commit conflicted (then `conflicted` is
    /// true: nothing was written, and the transaction should be run again).
    func finish(commit: Bool) async throws(StoreError) -> Bool
}

/// The scripts' store as a script generation holds it.
public enum ScriptStore: Sendable {
    /// `STORE_ENGINE = "SQLite"`: a file in STATE_DIRECTORY, this daemon's own.
    case local(KeyValueStore)
    /// `STORE_ENGINE = "PostgreSQL"`: shared with every daemon on that database.
    case remote(PostgreSQLStore)

    /// Where it lives, for the log.
    public var location: String {
        switch self {
        case .local(let store): store.path
        case .remote(let store): store.location
        }
    }
}
