import Logging
import PostgresNIO

/// `STORE_ENGINE = "PostgreSQL"`: the scripts' `store` in one table that every daemon of a site
/// shares (docs/SCRIPTING.md, "store"; docs/DEPLOYMENT.md).
///
/// Each operation outside a transaction is one statement (autocommit) on the store's statement
/// connections, prepared once per connection, so PostgreSQL does not parse and plan it per call.
/// A transaction holds one connection from `BEGIN ISOLATION LEVEL SERIALIZABLE` (or REPEATABLE
/// READ, the snapshot mode) to its end, so PostgreSQL itself decides which of two daemons'
/// concurrent transactions wins; the loser's statement or commit fails with a serialization
/// failure (40001) or a deadlock (40P01), which marks the transaction `conflicted` for the
/// scripting layer to run it again. SERIALIZABLE's read locks cover index pages, so under a burst
/// it also fails transactions that touched different keys on one page; the snapshot mode fails
/// only those that wrote the same key, which is all a read-modify-write of those keys needs.
///
/// Tables (created on first use, under an advisory lock so that two daemons starting together do
/// not race; afterwards a daemon needs only SELECT, INSERT, UPDATE and DELETE on them): `staticdhcpd_store(key text COLLATE "C" PRIMARY KEY, value text, updated_at)` and
/// `staticdhcpd_schema(component, version)`. The "C" collation makes key order byte order, as
/// SQLite's, and lets a prefix scan use the primary key.
public final class PostgreSQLStore: RemoteStore {
    /// The layout this build writes. A database that says more was written by a newer daemon,
    /// which this one refuses rather than misread.
    public static let schemaVersion = 1

    public let location: String
    /// The settings it was made from: a reload with the same ones keeps this store.
    public let settings: DatabaseConfiguration.PostgreSQL
    private let client: PostgresClient
    /// Statements outside transactions (most of them) go here instead of through `client`.
    let statements: StatementConnections
    /// How many connections `statements` keeps.
    public static let statementConnections = 4
    /// Whether the tables are known to exist at this build's version (checked once per process).
    private let prepared = Locked(false)
    private let runner: Task<Void, Never>
    private let timeout: Double
    private let logger: Logger

    /// `timeout` bounds every operation (DATABASE_TIMEOUT).
    public init(settings: DatabaseConfiguration.PostgreSQL, timeout: Double, logger: Logger) throws(StoreError) {
        let configuration: PostgresClient.Configuration
        let connection: PostgresConnection.Configuration
        do {
            configuration = try PostgreSQLDatabase.clientConfiguration(settings)
            connection = try PostgreSQLDatabase.connectionConfiguration(settings)
        } catch {
            throw StoreError("STORE_ENGINE \"PostgreSQL\": \(error)")
        }
        statements = StatementConnections(configuration: connection, count: Self.statementConnections, logger: logger)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        self.timeout = timeout
        self.logger = logger
        self.settings = settings
        let server = settings.host.flatMap { $0.isEmpty ? nil : $0 } ?? settings.socketDirectory
        location = "PostgreSQL staticdhcpd_store on \(server):\(settings.port)/\(settings.database ?? "")"
    }

    deinit {
        runner.cancel()
        statements.closeAll()
    }

    public func shutdown() {
        runner.cancel()
        statements.closeAll()
    }

    /// Creates the tables when missing and checks the schema version; throws when the server is
    /// unreachable or the schema is newer than this build understands (`StoreError.isNewerSchema`).
    /// Operations call it first until it has succeeded once, so a store that was unreachable at
    /// start-up is set up when it comes back.
    public func prepare() async throws(StoreError) {
        if prepared.withLock({ $0 }) { return }
        let create = [
            "SELECT pg_advisory_xact_lock(hashtext('staticdhcpd schema'))",
            "CREATE TABLE IF NOT EXISTS staticdhcpd_schema (component text PRIMARY KEY, version integer NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS staticdhcpd_store (
                key text COLLATE "C" PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())
            """,
            "INSERT INTO staticdhcpd_schema (component, version) VALUES ('store', \(Self.schemaVersion)) ON CONFLICT (component) DO NOTHING",
        ]
        let found: Int = try await bounded("preparing the store tables") { [client, logger] in
            try await client.withConnection { connection in
                // Only a first start creates the tables (which needs CREATE on the schema); later
                // ones need nothing beyond SELECT, INSERT, UPDATE and DELETE on them.
                let existing = try await connection.query(
                    "SELECT to_regclass('staticdhcpd_store') IS NOT NULL AND to_regclass('staticdhcpd_schema') IS NOT NULL",
                    logger: logger).collect()
                let exists = try existing.first?.decode(Bool.self) ?? false
                try await connection.query("BEGIN", logger: logger)
                do {
                    if !exists {
                        for sql in create {
                            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                        }
                    }
                    let rows = try await connection.query(
                        "SELECT version FROM staticdhcpd_schema WHERE component = 'store'", logger: logger).collect()
                    try await connection.query("COMMIT", logger: logger)
                    return try rows.first.map { Int(try $0.decode(Int32.self)) } ?? Self.schemaVersion
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
        guard found <= Self.schemaVersion else {
            var error = StoreError("\(location): the store's schema is version \(found), newer than this daemon's \(Self.schemaVersion); a newer staticdhcpd wrote it, so this one refuses to use it (upgrade this daemon)")
            error.isNewerSchema = true
            throw error
        }
        prepared.withLock { $0 = true }
    }

    /// Runs on the caller's executor: outside a transaction the statement goes straight to a
    /// connection and the caller resumes where it was (the engine's thread) when the answer is in.
    public nonisolated(nonsending) func perform(_ request: StoreRequest, in transaction: (any RemoteStoreTransaction)?) async throws(StoreError) -> StoreAnswer {
        let statement = try Self.statement(for: request)
        if !prepared.withLock({ $0 }) { try await prepare() }
        let rows: [PostgresRow]
        if let transaction = transaction as? PostgresStoreTransaction {
            rows = try await bounded(request.summary, transaction: transaction) {
                try await transaction.run(statement.query)
            }
        } else {
            let answer = statements.run(prepared: statement.sql, arguments: statement.arguments, timeout: timeout)
            do {
                rows = try await withCheckedThrowingContinuation { continuation in
                    answer.whenComplete { continuation.resume(with: $0) }
                }
            } catch {
                throw failure(error, request.summary, transaction: nil)
            }
        }
        return try Self.answer(request, rows)
    }

    public func begin(_ isolation: StoreIsolation) async throws(StoreError) -> any RemoteStoreTransaction {
        try await prepare()
        let transaction = PostgresStoreTransaction(client: client, timeout: timeout, logger: logger)
        do {
            _ = try await bounded("BEGIN", transaction: transaction) {
                switch isolation {
                case .serializable: try await transaction.run("BEGIN ISOLATION LEVEL SERIALIZABLE")
                case .snapshot: try await transaction.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
                case .readCommitted: try await transaction.run("BEGIN ISOLATION LEVEL READ COMMITTED")
                }
            }
        } catch {
            transaction.close()
            throw error
        }
        return transaction
    }

    // MARK: statements

    /// The statement for `request`: its SQL is one of a few fixed texts, so outside a
    /// transaction each is prepared once per connection (`StatementConnections`).
    static func statement(for request: StoreRequest) throws(StoreError) -> StoreStatement {
        switch request {
        case .get(let key):
            try checkKey(key)
            return StoreStatement("SELECT value FROM staticdhcpd_store WHERE key = $1", .text(key))
        case .getMany(let keys):
            for key in keys { try checkKey(key) }
            return StoreStatement("SELECT key, value FROM staticdhcpd_store WHERE key = ANY($1)", .textArray(keys))
        case .swap(let key, let value, let expected, let alsoPut):
            return try swapStatement(key, value: value, expected: expected, alsoPut: alsoPut)
        case .put(let key, let value):
            try checkKey(key)
            try checkValue(value, of: key)
            return StoreStatement("""
                INSERT INTO staticdhcpd_store (key, value, updated_at) VALUES ($1, $2, now())
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
                """, .text(key), .text(value))
        case .delete(let key):
            try checkKey(key)
            return StoreStatement("DELETE FROM staticdhcpd_store WHERE key = $1 RETURNING 1", .text(key))
        case .scan(let prefix, let limit):
            var arguments: [StatementArgument] = [.text(prefix)]
            var sql = "SELECT key, value FROM staticdhcpd_store WHERE key >= $1"
            if let upper = KeyValueStore.upperBound(of: prefix) {
                arguments.append(.text(upper))
                sql += " AND key < $\(arguments.count)"
            }
            sql += " ORDER BY key"
            if let limit {
                arguments.append(.integer(Int64(limit)))
                sql += " LIMIT $\(arguments.count)"
            }
            return StoreStatement(sql, arguments)
        case .count:
            return StoreStatement("SELECT count(*) FROM staticdhcpd_store")
        case .lock(let key):
            // An advisory lock on the key's hash, held until the transaction ends: two keys that
            // share a hash only wait for each other, they never mix.
            return StoreStatement("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", .text(key))
        }
    }

    /// A compare-and-set as one statement: the write (only when the key holds `expected`) and
    /// what the key held. Both parts start from one snapshot; a row another daemon changed
    /// meanwhile is checked again against its newest version by the UPDATE or DELETE (READ
    /// COMMITTED), so the condition is never judged on a stale value, though the `current` it
    /// returns may be stale: the caller's next attempt then fails once more and reads it anew.
    /// With `alsoPut`, a second data-modifying CTE upserts that row when the first wrote: both in
    /// one statement, so in one transaction.
    private static func swapStatement(_ key: String, value: String?, expected: String?, alsoPut: StoreRow?) throws(StoreError) -> StoreStatement {
        try checkKey(key)
        if let value { try checkValue(value, of: key) }
        var arguments: [StatementArgument] = [.text(key)]
        var also = ""
        if let alsoPut {
            try checkKey(alsoPut.key)
            try checkValue(alsoPut.value, of: alsoPut.key)
            guard alsoPut.key != key else {
                throw StoreError("store.cas: the key to put along (\(key)) is the key compared; give another")
            }
            arguments += [.text(alsoPut.key), .text(alsoPut.value)]
        }
        func alsoUpsert(when condition: String) -> String {
            """
            , also AS (INSERT INTO staticdhcpd_store (key, value, updated_at) SELECT $2, $3, now() WHERE \(condition) \
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now())
            """
        }
        // Parameters: $1 the key, then the row to put along ($2, $3), then the swap's own.
        let first = alsoPut == nil ? 2 : 4
        let write: String
        switch (value, expected) {
        case (let value?, nil):
            arguments.append(.text(value))
            write = "INSERT INTO staticdhcpd_store (key, value, updated_at) VALUES ($1, $\(first), now()) ON CONFLICT (key) DO NOTHING RETURNING 1"
        case (let value?, let expected?):
            arguments += [.text(value), .text(expected)]
            write = "UPDATE staticdhcpd_store SET value = $\(first), updated_at = now() WHERE key = $1 AND value = $\(first + 1) RETURNING 1"
        case (nil, let expected?):
            arguments.append(.text(expected))
            write = "DELETE FROM staticdhcpd_store WHERE key = $1 AND value = $\(first) RETURNING 1"
        case (nil, nil):
            // Deleting what must be absent: done when it is absent.
            let absent = "NOT EXISTS (SELECT 1 FROM staticdhcpd_store WHERE key = $1)"
            return StoreStatement("""
                \(alsoPut == nil ? "" : "WITH nothing AS (SELECT 1)" + alsoUpsert(when: absent))
                SELECT current IS NULL, current FROM (SELECT (SELECT value FROM staticdhcpd_store WHERE key = $1) AS current) AS found
                """, arguments)
        }
        return StoreStatement("""
            WITH written AS (\(write))\(alsoPut == nil ? "" : alsoUpsert(when: "EXISTS (SELECT 1 FROM written)"))
            SELECT EXISTS (SELECT 1 FROM written), (SELECT value FROM staticdhcpd_store WHERE key = $1)
            """, arguments)
    }

    private static func checkKey(_ key: String) throws(StoreError) {
        guard !key.isEmpty else { throw StoreError("store keys must not be empty") }
        guard key.utf8.count <= KeyValueStore.maximumKeyLength else {
            throw StoreError("store key is \(key.utf8.count) bytes long; the limit is \(KeyValueStore.maximumKeyLength)")
        }
        guard !key.utf8.contains(0) else {
            throw StoreError("store key \(key.debugDescription) holds a NUL byte, which PostgreSQL's text cannot")
        }
    }

    private static func checkValue(_ value: String, of key: String) throws(StoreError) {
        guard value.utf8.count <= KeyValueStore.maximumValueLength else {
            throw StoreError("store value for \(key) is \(value.utf8.count) bytes; the limit is \(KeyValueStore.maximumValueLength)")
        }
        guard !value.utf8.contains(0) else {
            throw StoreError("store value for \(key) holds a NUL byte, which PostgreSQL's text cannot")
        }
    }

    private static func answer(_ request: StoreRequest, _ rows: [PostgresRow]) throws(StoreError) -> StoreAnswer {
        do {
            switch request {
            case .get: return .value(try rows.first?.decode(String.self))
            case .getMany:
                var values: [String: String] = [:]
                for row in rows {
                    let (key, value) = try row.decode((String, String).self)
                    values[key] = value
                }
                return .values(values)
            case .swap:
                guard let row = rows.first else { return .swapped(false, current: nil) }
                let (swapped, current) = try row.decode((Bool, String?).self)
                return .swapped(swapped, current: swapped ? nil : current)
            case .put, .lock: return .done
            case .delete: return .existed(!rows.isEmpty)
            case .scan:
                return .rows(try rows.map { row in
                    let (key, value) = try row.decode((String, String).self)
                    return StoreRow(key: key, value: value)
                })
            case .count: return .count(Int(try rows.first?.decode(Int64.self) ?? 0))
            }
        } catch {
            throw StoreError("store: PostgreSQL answered \(request.summary) with rows of an unexpected type: \(error)")
        }
    }

    // MARK: time-outs and errors

    /// Runs `operation` within the time-out, turning driver errors into `StoreError`s; a
    /// serialization failure or deadlock marks `transaction` conflicted.
    private func bounded<T: Sendable>(
        _ what: String, transaction: PostgresStoreTransaction? = nil,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await withDeadline(timeout, error: .timeout(engine: "PostgreSQL store", seconds: timeout), operation: operation)
        } catch {
            throw failure(error, what, transaction: transaction)
        }
    }

    /// What a failed operation tells the script; a serialization failure or deadlock marks
    /// `transaction` conflicted, any other failure ends it.
    private func failure(_ error: any Error, _ what: String, transaction: PostgresStoreTransaction?) -> StoreError {
        if let error = error as? StoreError { return error }
        if error is DatabaseError || error is StatementConnections.TimedOut {
            transaction?.close()
            return StoreError("\(location): \(what) took longer than DATABASE_TIMEOUT (\(timeout) s)")
        }
        let state = (error as? PSQLError)?.serverInfo?[.sqlState]
        if let transaction, state == "40001" || state == "40P01" {
            transaction.markConflicted()
            return StoreError("\(location): \(what) conflicted with another daemon's transaction (SQLSTATE \(state ?? ""))")
        }
        transaction?.close()
        return StoreError("\(location) unavailable: \(what) failed: \(Self.describe(error))")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}

extension StoreRequest {
    /// The operation in a few words, for messages.
    var summary: String {
        switch self {
        case .get(let key): "get(\"\(key)\")"
        case .getMany(let keys): "getMany(\(keys.count) keys)"
        case .swap(let key, _, _, let alsoPut): "cas(\"\(key)\"\(alsoPut.map { ", \"\($0.key)\"" } ?? ""))"
        case .put(let key, _): "put(\"\(key)\")"
        case .delete(let key): "delete(\"\(key)\")"
        case .scan(let prefix, _): "scan(\"\(prefix)\")"
        case .count: "count()"
        case .lock(let key): "lock(\"\(key)\")"
        }
    }
}

/// One serializable transaction on a connection leased for its whole life: statements go to a
/// task that holds the lease and runs them in order.
final class PostgresStoreTransaction: RemoteStoreTransaction, @unchecked Sendable {
    private struct Command: Sendable {
        let query: PostgresQuery
        let reply: @Sendable (Result<[PostgresRow], any Error>) -> Void
    }

    private let commands: AsyncStream<Command>.Continuation
    private let state = Locked((conflicted: false, closed: false))
    private let timeout: Double

    init(client: PostgresClient, timeout: Double, logger: Logger) {
        self.timeout = timeout
        let (stream, commands) = AsyncStream.makeStream(of: Command.self)
        self.commands = commands
        Task {
            do {
                try await client.withConnection { connection in
                    for await command in stream {
                        do {
                            command.reply(.success(try await connection.query(command.query, logger: logger).collect()))
                        } catch {
                            command.reply(.failure(error))
                        }
                    }
                }
            } catch {
                // No connection could be had: every statement fails with that reason.
                for await command in stream { command.reply(.failure(error)) }
            }
        }
    }

    var conflicted: Bool { state.withLock { $0.conflicted } }

    func markConflicted() { state.withLock { $0.conflicted = true } }

    /// Ends the lease: statements sent afterwards fail.
    func close() {
        state.withLock { $0.closed = true }
        commands.finish()
    }

    func run(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withCheckedThrowingContinuation { continuation in
            let command = Command(query: query) { continuation.resume(with: $0) }
            if case .terminated = commands.yield(command) {
                continuation.resume(throwing: StoreError("the store's transaction is already closed"))
            }
        }
    }

    func finish(commit: Bool) async throws(StoreError) -> Bool {
        defer { close() }
        if state.withLock({ $0.closed }) {
            if commit { throw StoreError("the store's transaction was aborted (its connection failed or timed out); nothing was written") }
            return false
        }
        if !commit || conflicted {
            _ = try? await withDeadline(timeout, error: .timeout(engine: "PostgreSQL store", seconds: timeout)) {
                try await self.run("ROLLBACK")
            }
            return false
        }
        do {
            _ = try await withDeadline(timeout, error: .timeout(engine: "PostgreSQL store", seconds: timeout)) {
                try await self.run("COMMIT")
            }
            return true
        } catch {
            let sqlState = (error as? PSQLError)?.serverInfo?[.sqlState]
            if sqlState == "40001" || sqlState == "40P01" {
                markConflicted()
                return false
            }
            throw StoreError("the store's COMMIT failed: \(PostgreSQLStore.describe(error)); nothing was written")
        }
    }
}

/// One of the store's statements: its SQL and its parameters, run prepared on the statement
/// connections or, inside a transaction, as an ordinary query with bound parameters.
struct StoreStatement: Sendable {
    let sql: String
    let arguments: [StatementArgument]

    init(_ sql: String, _ arguments: StatementArgument...) {
        self.init(sql, arguments)
    }

    init(_ sql: String, _ arguments: [StatementArgument]) {
        self.sql = sql
        self.arguments = arguments
    }

    /// The statement with its parameters bound, for a transaction's connection.
    var query: PostgresQuery {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .text(let text): binds.append(text)
            case .textArray(let texts): binds.append(texts)
            case .integer(let value): binds.append(value)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}
