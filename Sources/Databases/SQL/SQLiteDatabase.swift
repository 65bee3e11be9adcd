import DHCPWire
import Foundation
import GRDB
import Logging

/// `DATABASE_ENGINE = "SQLite"`: the spec's schema and query on `SQLITE_FILE`, read-only.
///
/// - Connections are read-only GRDB readers; another process (the reservations tool, the web UI,
///   `sqlite3`) edits the file, and every lookup sees every edit committed before it started. In
///   WAL mode (which the reservations tool sets) readers never block writers, and the engine's
///   lookups share a read transaction until the next commit (`SQLiteLookupConnection`).
/// - The query is a cached prepared statement per connection. The engine reads on its own
///   thread (`lookupImmediately`): a local indexed read costs microseconds and never waits for
///   a writer; `lookupMAC` runs the same read on GRDB's queue for other callers.
/// - The file is opened lazily: a missing or broken file fails lookups with a clear error and is
///   retried on the next lookup, so the server recovers by itself. If the file is replaced
///   (renamed over, deleted and recreated), the change is noticed within a second and reopened.
public final class SQLiteDatabase: ImmediateLookup {
    public var engineName: String { "SQLite" }

    private struct OpenFile {
        var reader: any DatabaseReader
        var identity: FileIdentity
        var checkedAt: UInt64
    }

    private let path: String
    private let sql: String
    private let extraKeys: [String]
    private let logger: Logger
    private let state = Locked<OpenFile?>(nil)

    /// The engine's connection for `lookupImmediately`, reopened like the pool when the file changes.
    private struct DirectConnection {
        var connection: SQLiteLookupConnection
        var identity: FileIdentity
        var checkedAt: UInt64
    }
    private let direct = Locked<DirectConnection?>(nil)
    /// How often the file's identity is rechecked, in nanoseconds.
    private let recheckInterval: UInt64 = 1_000_000_000

    public init(path: String, query: DefinitionQuery, logger: Logger) throws {
        self.path = path
        self.sql = query.sql(.sqlite)
        self.extraKeys = query.extraKeys
        self.logger = logger
        do {
            _ = try reader()
        } catch {
            logger.warning("SQLite database not usable yet; lookups will fail until it is: \(error)")
        }
    }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        let reader = try reader()
        let (sql, extraKeys) = (self.sql, self.extraKeys)
        return try await translatingErrors {
            try await reader.read { db in try Self.fetch(db, mac: mac, sql: sql, extraKeys: extraKeys) }
        }
    }

    /// The same query on the engine's own connection, on the caller's thread: an indexed read of
    /// a local file takes a few microseconds, less than handing it to a queue and resuming
    /// afterwards. A writer never blocks it in WAL mode (in rollback mode it waits at most
    /// `SQLiteLookupConnection.busyMilliseconds` for a commit).
    public func lookupImmediately(_ mac: MAC) throws -> [Definition]? {
        try direct.withLock { current in
            let now = DispatchTime.now().uptimeNanoseconds
            if current == nil || now &- current!.checkedAt >= recheckInterval {
                guard let identity = FileIdentity(path: path) else {
                    current = nil
                    throw DatabaseError.unavailable(engine: engineName, reason: "\(path) does not exist or cannot be read")
                }
                if current?.identity == identity {
                    current?.checkedAt = now
                } else {
                    let connection = try SQLiteLookupConnection(path: path, sql: sql, extraKeys: extraKeys)
                    current = DirectConnection(connection: connection, identity: identity, checkedAt: now)
                }
            }
            do {
                return try current!.connection.lookup(mac)
            } catch let error as DatabaseError {
                // A failing connection may point at a vanished file: reopen next time.
                if case .unavailable = error { current = nil }
                throw error
            }
        }
    }

    public func endReadSnapshot() {
        direct.withLock { $0?.connection.endSnapshot() }
    }

    /// Whether the engine's connection keeps a read transaction between lookups (tests).
    var holdsReadSnapshot: Bool {
        direct.withLock { $0?.connection.holdsSnapshot ?? false }
    }

    /// How many MACs' rows the engine's connection keeps since the last commit (tests).
    var recentRowCount: Int {
        direct.withLock { $0?.connection.recentRowCount ?? 0 }
    }

    private static func fetch(_ db: GRDB.Database, mac: MAC, sql: String, extraKeys: [String]) throws -> [Definition] {
        let macText = mac.description
        let statement = try db.cachedStatement(sql: sql)
        guard let row = try Row.fetchOne(statement, arguments: [macText]) else { return [] }
        return [try SQLiteRow(row: row, mac: macText).record(extraKeys: extraKeys).definition(for: mac)]
    }

    private func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GRDB.DatabaseError {
            throw unavailable(error)
        }
    }

    private func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GRDB.DatabaseError {
            throw unavailable(error)
        }
    }

    /// A connection that failed may be pointing at a vanished file: reopen next time.
    private func unavailable(_ error: GRDB.DatabaseError) -> DatabaseError {
        state.withLock { $0 = nil }
        return DatabaseError.sqlite(path: path, message: error.message ?? error.description)
    }

    public func reinitialise() async throws {
        state.withLock { $0 = nil }
        direct.withLock { $0 = nil }
        _ = try reader()
    }

    /// The open reader, opening or reopening the file when needed.
    private func reader() throws -> any DatabaseReader {
        let now = DispatchTime.now().uptimeNanoseconds
        if let open = state.withLock({ current -> OpenFile? in
            guard let file = current, now &- file.checkedAt < recheckInterval else { return nil }
            return file
        }) {
            return open.reader
        }
        guard let identity = FileIdentity(path: path) else {
            state.withLock { $0 = nil }
            throw DatabaseError.unavailable(engine: engineName, reason: "\(path) does not exist or cannot be read")
        }
        if let reader = state.withLock({ current -> (any DatabaseReader)? in
            guard let file = current, file.identity == identity else { return nil }
            current?.checkedAt = now
            return file.reader
        }) {
            return reader
        }
        let reader = try Self.open(path)
        state.withLock { $0 = OpenFile(reader: reader, identity: identity, checkedAt: now) }
        logger.info("SQLite database \(path) opened read-only")
        warnUnlessWAL(reader)
        return reader
    }

    /// A file made by `sqlite3` or the original (a migrated site's) is in rollback-journal mode:
    /// every lookup then takes and drops a shared lock, and an edit blocks lookups while it
    /// commits. The daemon never changes a site's file, so it says what to run instead
    /// (docs/DEPLOYMENT.md, "The reservation tables"; `staticdhcpd db check` says it too).
    private func warnUnlessWAL(_ reader: any DatabaseReader) {
        guard let mode = try? reader.read({ try String.fetchOne($0, sql: "PRAGMA journal_mode") }),
              mode.lowercased() != "wal" else { return }
        let advice = "SQLite database \(path) is in journal mode \(mode), not WAL: each lookup takes a shared lock and an edit "
            + "holds lookups back while it commits. To change it (once, with the daemon stopped or not): "
            + "sqlite3 \(path) 'PRAGMA journal_mode = WAL'"
        logger.warning("\(advice)")
    }

    private static func open(_ path: String) throws -> any DatabaseReader {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "staticdhcpd.sqlite"
        configuration.maximumReaderCount = 2
        // Opening reads the schema, which fails at once with "database is locked" while another
        // process holds the file's lock for a moment (a checkpoint, an edit): wait for it instead
        // (a reload failed that way under load). Lookups on this pool are parked, off the engine's
        // thread, and bounded by DATABASE_TIMEOUT.
        configuration.busyMode = .timeout(1)
        do {
            return try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw DatabaseError.unavailable(engine: "SQLite", reason: "cannot open \(path): \(error)")
        }
    }
}

/// Device and inode of a file: tells a file replaced under the same name from the one opened.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, access(path, R_OK) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Reads one result row of `DefinitionQuery` without ever trapping on an unexpected type.
private struct SQLiteRow: DefinitionRow {
    let row: Row
    let mac: String

    private func value(_ index: Int) -> DatabaseValue { row[index] }

    func text(_ index: Int) -> String? {
        switch value(index).storage {
        case .null: nil
        case .string(let text): text
        case .int64(let number): String(number)
        case .double(let number): String(number)
        case .blob(let data): String(decoding: data, as: UTF8.self)
        }
    }

    func integer(_ index: Int, column: String) throws -> Int64? {
        switch value(index).storage {
        case .null: return nil
        case .int64(let number): return number
        case .double(let number) where number == number.rounded() && abs(number) < 9e18: return Int64(number)
        case .string(let text) where Int64(text.trimmingCharacters()) != nil: return Int64(text.trimmingCharacters())
        default:
            throw DatabaseError.malformedRecord(mac: mac, column: column, value: text(index) ?? "?", reason: "not an integer")
        }
    }

    func extraValue(_ index: Int) -> ExtraValue? {
        switch value(index).storage {
        case .null: nil
        case .string(let text): .string(text)
        case .int64(let number): .integer(Int(number))
        case .double(let number): .double(number)
        case .blob(let data): .string(data.map { String(format: "%02x", $0) }.joined())
        }
    }
}

extension DatabaseError {
    /// An SQLite failure: `.schema` when the lookup names a table or column the file does not
    /// have (a configuration error: the wrong file, or EXTRA_MAPS/EXTRA_SUBNETS naming a column
    /// it lacks), `.unavailable` for the rest (a missing or unreadable file, a lock, I/O).
    static func sqlite(path: String, message: String) -> DatabaseError {
        if message.hasPrefix("no such table") {
            return .schema(engine: "SQLite", reason: "\(path): \(message); create the tables with `staticdhcpd db init`, or check SQLITE_FILE")
        }
        if message.hasPrefix("no such column") {
            return .schema(engine: "SQLite", reason: "\(path): \(message); add the column, or remove it from EXTRA_MAPS/EXTRA_SUBNETS")
        }
        return .unavailable(engine: "SQLite", reason: "\(path): \(message)")
    }
}

extension SQLiteDatabase {
    /// `db check` for an SQLite file: the declared types of the columns the lookup reads, the row
    /// counts and the journal mode. Outside WAL the daemon cannot keep one read transaction
    /// across lookups (docs/ARCHITECTURE.md, "SQLite read transactions"), so each lookup pays
    /// for its own, and an edit in progress holds lookups back.
    static func describe(path: String, query: DefinitionQuery, into report: inout DatabaseCheck) {
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let file = try DatabaseQueue(path: path, configuration: configuration)
            try file.read { db in
                for (table, columns) in [("maps", query.mapsColumns), ("subnets", query.subnetsColumns)] {
                    var declared: [String: String] = [:]
                    for row in try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))") {
                        declared[row["name"] as String] = row["type"] as String
                    }
                    report.columns += columns.map {
                        DatabaseCheck.Column(table: table, column: $0, type: declared[$0].map { $0.isEmpty ? "(none)" : $0 }, readable: true)
                    }
                    if !declared.isEmpty, let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") {
                        report.rowCounts[table] = count
                    }
                }
                report.journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
            }
        } catch {
            return // the sample lookup that follows names what is wrong with the file
        }
        if let mode = report.journalMode, mode.lowercased() != "wal" {
            report.warnings.append(
                "journal mode \(mode), not WAL: each lookup opens its own read transaction and an edit holds lookups back; "
                    + "PRAGMA journal_mode = WAL (staticdhcpd db init sets it)")
        }
    }
}
