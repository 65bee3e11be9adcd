import Foundation
import Glibc
import GRDB

/// A small persistent key -> text store in one SQLite file (`store.sqlite3` in `STATE_DIRECTORY`):
/// what conf.lua's `store` global is built on. Values are opaque text here; the scripting layer
/// serialises Lua values into it.
///
/// **Threading contract.** Calls come from one serial executor (the one that runs Lua). Inside
/// `transaction(_:)` every call uses the open transaction's connection, so a callback running
/// inside a transaction may read and write freely; outside, each call is its own transaction.
/// Several instances may open the same file (an old and a new script generation during a reload):
/// SQLite's locking and WAL keep them consistent.
///
/// **Durability.** WAL with `synchronous = NORMAL`: a committed write survives the process being
/// killed; on power loss the last few commits may be lost, never half-written.
public final class KeyValueStore: @unchecked Sendable {
    public let path: String
    public let directory: String
    private let queue: DatabaseQueue
    /// The connection of the transaction in progress, if any (set only inside `transaction`).
    private var active: GRDB.Database?

    /// Longest key accepted (bytes).
    public static let maximumKeyLength = 1024
    /// Largest serialised value accepted (bytes).
    public static let maximumValueLength = 16 << 20

    /// Opens (creating when needed) `directory/store.sqlite3`; the directory is created too.
    public init(directory: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("STATE_DIRECTORY \(directory) cannot be created: \(error.localizedDescription)")
        }
        self.directory = directory
        path = (directory as NSString).appendingPathComponent("store.sqlite3")
        var configuration = Configuration()
        configuration.label = "staticdhcpd.store"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID
                    """)
            }
        } catch {
            throw StoreError("the store \(path) cannot be opened: \(error)")
        }
    }

    /// Whether a transaction is open (store calls then join it).
    public var inTransaction: Bool { active != nil }

    private func checkKey(_ key: String) throws(StoreError) {
        guard !key.isEmpty else { throw StoreError("store keys must not be empty") }
        guard key.utf8.count <= Self.maximumKeyLength else {
            throw StoreError("store key is \(key.utf8.count) bytes long; the limit is \(Self.maximumKeyLength)")
        }
    }

    private func reading<T>(_ body: (GRDB.Database) throws -> T) throws(StoreError) -> T { try run(writing: false, body) }
    private func writing<T>(_ body: (GRDB.Database) throws -> T) throws(StoreError) -> T { try run(writing: true, body) }

    /// Runs `body` on the open transaction's connection, or else in a read or a write transaction
    /// of its own; any failure becomes a `StoreError`.
    private func run<T>(writing: Bool, _ body: (GRDB.Database) throws -> T) throws(StoreError) -> T {
        do {
            if let active { return try body(active) }
            return try writing ? queue.write(body) : queue.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("store \(path): \(error)")
        }
    }

    public func get(_ key: String) throws(StoreError) -> String? {
        try checkKey(key)
        return try reading { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM store WHERE key = ?"), arguments: [key])
        }
    }

    public func put(_ key: String, _ value: String) throws(StoreError) {
        try checkKey(key)
        guard value.utf8.count <= Self.maximumValueLength else {
            throw StoreError("store value for \(key) is \(value.utf8.count) bytes; the limit is \(Self.maximumValueLength)")
        }
        try writing { db in
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO store (key, value) VALUES (?, ?)").execute(arguments: [key, value])
        }
    }

    /// The keys of `keys` that exist, with their values (one read).
    public func getMany(_ keys: [String]) throws(StoreError) -> [String: String] {
        for key in keys { try checkKey(key) }
        return try reading { db in
            let statement = try db.cachedStatement(sql: "SELECT value FROM store WHERE key = ?")
            var found: [String: String] = [:]
            for key in keys where found[key] == nil {
                if let value = try String.fetchOne(statement, arguments: [key]) { found[key] = value }
            }
            return found
        }
    }

    /// Compare-and-set (docs/SCRIPTING.md, "store.cas"): writes `value` (deletes when nil) only
    /// when the key holds exactly `expected` (is absent when nil), and then `alsoPut` too, in the
    /// same transaction. Returns whether it wrote and, when it did not, what the key holds.
    public func swap(_ key: String, value: String?, expected: String?, alsoPut: StoreRow? = nil) throws(StoreError) -> (swapped: Bool, current: String?) {
        try checkKey(key)
        for (key, value) in [(key, value), (alsoPut?.key, alsoPut?.value)] {
            guard let key, let value, value.utf8.count > Self.maximumValueLength else { continue }
            throw StoreError("store value for \(key) is \(value.utf8.count) bytes; the limit is \(Self.maximumValueLength)")
        }
        if let alsoPut {
            try checkKey(alsoPut.key)
            guard alsoPut.key != key else {
                throw StoreError("store.cas: the key to put along (\(key)) is the key compared; give another")
            }
        }
        return try writing { db in
            let current = try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM store WHERE key = ?"), arguments: [key])
            guard current == expected else { return (false, current) }
            if let value {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO store (key, value) VALUES (?, ?)").execute(arguments: [key, value])
            } else if current != nil {
                try db.cachedStatement(sql: "DELETE FROM store WHERE key = ?").execute(arguments: [key])
            }
            if let alsoPut {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO store (key, value) VALUES (?, ?)").execute(arguments: [alsoPut.key, alsoPut.value])
            }
            return (true, nil)
        }
    }

    /// Returns whether the key existed.
    @discardableResult
    public func delete(_ key: String) throws(StoreError) -> Bool {
        try checkKey(key)
        return try writing { db in
            try db.cachedStatement(sql: "DELETE FROM store WHERE key = ?").execute(arguments: [key])
            return db.changesCount > 0
        }
    }

    /// Every pair whose key starts with `prefix`, in key (byte) order; at most `limit` when given.
    public func scan(prefix: String, limit: Int? = nil) throws(StoreError) -> [(key: String, value: String)] {
        try reading { db in
            // Byte-wise range instead of LIKE: no escaping, uses the primary key.
            var sql = "SELECT key, value FROM store WHERE key >= ?"
            var arguments: StatementArguments = [prefix]
            if let upper = Self.upperBound(of: prefix) {
                sql += " AND key < ?"
                arguments += [upper]
            }
            sql += " ORDER BY key"
            if let limit {
                sql += " LIMIT ?"
                arguments += [limit]
            }
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
                (key: row[0] as String, value: row[1] as String)
            }
        }
    }

    /// The smallest string greater than every string starting with `prefix` (nil: no bound).
    static func upperBound(of prefix: String) -> String? {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0x7F {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return nil
    }

    /// Runs `body` in one write transaction: everything it writes is committed together, or
    /// nothing is when it throws. Nested calls join the outer transaction.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if active != nil { return try body() }
        var result: T?
        do {
            try queue.write { db in
                active = db
                defer { active = nil }
                result = try body()
            }
        } catch let error as GRDB.DatabaseError {
            throw StoreError("store \(path): \(error)")
        }
        return result!
    }

    /// Hands the directory and the database files to `uid`/`gid` (the daemon drops privileges
    /// after opening the store and must still be able to write it).
    public func chown(uid: Int?, gid: Int?) {
        guard uid != nil || gid != nil else { return }
        let owner = uid.map { uid_t($0) } ?? uid_t.max
        let group = gid.map { gid_t($0) } ?? gid_t.max
        for file in [directory, path, path + "-wal", path + "-shm"] {
            _ = Glibc.chown(file, owner, group)
        }
    }

    /// Number of keys (for tests and the dashboard).
    public func count() throws(StoreError) -> Int {
        try reading { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM store") ?? 0 }
    }
}

/// A store failure: bad key or value, or SQLite refusing; the message names what was wrong.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The shared store was written by a newer daemon: this one must not start on it.
    public var isNewerSchema = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
