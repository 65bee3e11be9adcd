import DHCPWire
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// `DATABASE_ENGINE = "PostgreSQL"`: the spec's schema and query over a postgres-nio pool.
///
/// Lookups run on `POSTGRESQL_MAXIMUM_CONNECTIONS` connections of their own, taken in turn, each
/// with the lookup prepared on it. Connections are made on demand and remade after a failure, so
/// a server that is down at start or restarts mid-run is picked up again without intervention;
/// while it is down, lookups fail (and `DATABASE_TIMEOUT` bounds how long they wait).
/// Several daemons on several machines can serve one site from one such database.
public final class PostgreSQLDatabase: ResumingLookup {
    public var engineName: String { "PostgreSQL" }

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    /// The lookups' own connections (the pool serves the catalog, `db check` and EXPLAIN).
    private let lookups: StatementConnections
    /// DATABASE_TIMEOUT: how long a lookup or a reload's check may take.
    private let timeout: Double
    private let query: DefinitionQuery
    private let extraKeys: [String]
    private let logger: Logger
    private let username: String
    /// The lookup built for the column types the site's tables have, learned from the catalog on
    /// the first lookup (one round trip, then never again) and forgotten at a reload or when
    /// PostgreSQL rejects the lookup, so a schema changed under a running daemon is learned again.
    private let learned = Locked<String?>(nil)

    /// `timeout` (DATABASE_TIMEOUT, nil or 0 for none) bounds each lookup and each reload's check.
    public init(settings: DatabaseConfiguration.PostgreSQL, query: DefinitionQuery, timeout: Double?, logger: Logger) throws {
        let configuration = try Self.clientConfiguration(settings)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.runner = Task { await client.run() }
        lookups = StatementConnections(
            configuration: try Self.connectionConfiguration(settings), count: settings.maximumConnections, logger: logger)
        self.timeout = timeout.flatMap { $0 > 0 ? $0 : nil } ?? Self.noTimeout
        self.query = query
        self.extraKeys = query.extraKeys
        self.logger = logger
        self.username = settings.username ?? ""
    }

    deinit {
        runner.cancel()
        lookups.closeAll()
    }

    /// The pool configuration of `POSTGRESQL_*` (shared with `PostgreSQLStore`). Connections are
    /// made on demand (none is kept while idle) and remade after a failure.
    static func clientConfiguration(_ settings: DatabaseConfiguration.PostgreSQL) throws -> PostgresClient.Configuration {
        guard settings.maximumConnections > 0 else {
            throw DatabaseError.configuration("POSTGRESQL_MAXIMUM_CONNECTIONS must be at least 1, not \(settings.maximumConnections)")
        }
        guard (1...65535).contains(settings.port) else {
            throw DatabaseError.configuration("POSTGRESQL_PORT \(settings.port) is not a TCP port")
        }
        var configuration: PostgresClient.Configuration
        if let host = settings.host, !host.isEmpty {
            configuration = .init(
                host: host, port: settings.port, username: settings.username ?? "", password: settings.password,
                database: settings.database, tls: try Self.tls(settings.sslMode))
        } else {
            // libpq ignores sslmode on the local socket; so do we.
            configuration = .init(
                unixSocketPath: "\(settings.socketDirectory)/.s.PGSQL.\(settings.port)",
                username: settings.username ?? "", password: settings.password, database: settings.database)
        }
        configuration.options.maximumConnections = settings.maximumConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.connectionIdleTimeout = .seconds(60)
        return configuration
    }

    /// Closes the pool; lookups afterwards fail.
    public func shutdown() {
        runner.cancel()
        lookups.closeAll()
    }

    /// `POSTGRESQL_SSLMODE` in libpq's terms.
    static func tls(_ mode: String) throws -> PostgresClient.Configuration.TLS {
        switch try tlsPolicy(mode) {
        case nil: return .disable
        case (let configuration, required: false)?: return .prefer(configuration)
        case (let configuration, required: true)?: return .require(configuration)
        }
    }

    /// The same for one connection of our own (the shared store's statement connections).
    static func connectionTLS(_ mode: String) throws -> PostgresConnection.Configuration.TLS {
        switch try tlsPolicy(mode) {
        case nil: return .disable
        case (let configuration, let required)?:
            let context = try NIOSSLContext(configuration: configuration)
            return required ? .require(context) : .prefer(context)
        }
    }

    /// nil: no TLS; otherwise the TLS configuration and whether the server must accept it.
    private static func tlsPolicy(_ mode: String) throws -> (TLSConfiguration, required: Bool)? {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch mode {
        case "disable": return nil
        case "allow", "prefer": return (unverified, false)
        case "require": return (unverified, true)
        case "verify-ca":
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .noHostnameVerification
            return (configuration, true)
        case "verify-full": return (.makeClientConfiguration(), true)
        default:
            throw DatabaseError.configuration(
                "POSTGRESQL_SSLMODE '\(mode)' is not one of disable, allow, prefer, require, verify-ca, verify-full")
        }
    }

    /// The settings of one connection of our own, as `clientConfiguration` gives the pool's.
    static func connectionConfiguration(_ settings: DatabaseConfiguration.PostgreSQL) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let host = settings.host, !host.isEmpty {
            configuration = .init(
                host: host, port: settings.port, username: settings.username ?? "", password: settings.password,
                database: settings.database, tls: try connectionTLS(settings.sslMode))
        } else {
            configuration = .init(
                unixSocketPath: "\(settings.socketDirectory)/.s.PGSQL.\(settings.port)",
                username: settings.username ?? "", password: settings.password, database: settings.database)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// How long a lookup may take when DATABASE_TIMEOUT sets no limit.
    static let noTimeout = 3600.0

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        try await lookupResuming(mac)
    }

    /// The lookup as a statement prepared once per connection, on `lookups`' connections, bounded
    /// by DATABASE_TIMEOUT. Resumes on the caller's executor, so the engine's thread waits for
    /// the answer without a task of its own.
    public nonisolated(nonsending) func lookupResuming(_ mac: MAC) async throws -> [Definition] {
        let macText = mac.description
        let record: DefinitionRecord?
        do {
            let sql: String
            if let known = learned.withLock({ $0 }) { sql = known } else { sql = try await lookupSQL() }
            let answer = lookups.run(prepared: sql, arguments: [.text(macText)], timeout: timeout)
            let rows = try await withCheckedThrowingContinuation { continuation in
                answer.whenComplete { continuation.resume(with: $0) }
            }
            record = try rows.first.map {
                try PostgresDefinitionRow(cells: Array($0), mac: macText).checkedRecord(extraKeys: extraKeys)
            }
        } catch let error as DatabaseError {
            if error.isSchemaError { learned.withLock { $0 = nil } }
            throw error
        } catch is StatementConnections.TimedOut {
            throw DatabaseError.timeout(engine: engineName, seconds: timeout)
        } catch {
            let classified = Self.classify(error)
            if classified.isSchemaError { learned.withLock { $0 = nil } }
            throw classified
        }
        return try record.map { [try $0.definition(for: mac)] } ?? []
    }

    /// The plan PostgreSQL makes for the lookup of `mac`, one line per node (EXPLAIN's text),
    /// with sequential scans priced out as far as the planner allows, so a table of a few rows
    /// still shows whether an index can serve the lookup (a Seq Scan then means none can).
    func lookupPlan(_ mac: MAC) async throws -> [String] {
        let sql = try await lookupSQL()
        return try await client.withConnection { connection in
            _ = try await connection.query("BEGIN", logger: self.logger)
            _ = try await connection.query("SET LOCAL enable_seqscan = off", logger: self.logger)
            var binds = PostgresBindings(capacity: 1)
            binds.append(UntypedText(mac.description), context: .default)
            var lines: [String] = []
            for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + sql, binds: binds), logger: self.logger)
                .decode(String.self) {
                lines.append(line)
            }
            _ = try await connection.query("COMMIT", logger: self.logger)
            return lines
        }
    }

    /// The lookup for this site's column types: learned once (`columnTypes`), then reused.
    func lookupSQL() async throws -> String {
        if let sql = learned.withLock({ $0 }) { return sql }
        let sql = query.postgresSQL(try await columnTypes())
        learned.withLock { $0 = sql }
        return sql
    }

    /// Reads from the catalog the types of the columns the lookup reads, and checks that the
    /// tables and columns exist and may be read; otherwise `.schema` naming what is missing.
    func columnTypes() async throws -> PostgresColumnTypes {
        try Self.check(try await catalog(), query: query, username: username)
    }

    /// What the catalog says of the columns of `maps` and `subnets`: "table.column" -> its type
    /// and whether this user may read it.
    func catalog() async throws -> [String: (type: String, readable: Bool)] {
        // A domain is read as its base type; to_regclass() resolves the names as the lookup
        // will (search_path) and is NULL for a table that does not exist.
        let catalog: PostgresQuery = """
            SELECT c.relname::text, a.attname::text, \
            (SELECT b.typname::text FROM pg_type b WHERE b.oid = coalesce(nullif(t.typbasetype, 0), t.oid)), \
            has_column_privilege(c.oid, a.attnum, 'SELECT') \
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
            JOIN pg_type t ON t.oid = a.atttypid \
            WHERE c.oid = to_regclass('maps') OR c.oid = to_regclass('subnets')
            """
        var found: [String: (type: String, readable: Bool)] = [:]
        let rows: [PostgresRow]
        do {
            rows = try await lookups.run(catalog, timeout: timeout).get()
        } catch is StatementConnections.TimedOut {
            throw DatabaseError.timeout(engine: engineName, seconds: timeout)
        }
        for row in rows {
            let (table, column, type, readable) = try row.decode((String, String, String, Bool).self)
            found["\(table).\(column)"] = (type, readable)
        }
        return found
    }

    /// The checks of `columnTypes` on what the catalog said, apart for tests.
    static func check(
        _ found: [String: (type: String, readable: Bool)], query: DefinitionQuery, username: String
    ) throws -> PostgresColumnTypes {
        let grantee = username.isEmpty ? "the daemon's user" : username
        for (table, columns) in [("maps", query.mapsColumns), ("subnets", query.subnetsColumns)] {
            guard found.keys.contains(where: { $0.hasPrefix("\(table).") }) else {
                throw DatabaseError.schema(
                    engine: "PostgreSQL",
                    reason: "table '\(table)' does not exist (or is not in \(grantee)'s search_path); "
                        + "create it as docs/DEPLOYMENT.md shows, or check POSTGRESQL_DATABASE")
            }
            for column in columns {
                guard let entry = found["\(table).\(column)"] else {
                    let extra = !query.mapsColumns.prefix(5).contains(column) && !query.subnetsColumns.prefix(9).contains(column)
                    throw DatabaseError.schema(
                        engine: "PostgreSQL",
                        reason: "column '\(table).\(column)' does not exist; "
                            + (extra ? "add it to table \(table) or remove it from \(table == "maps" ? "EXTRA_MAPS" : "EXTRA_SUBNETS")"
                                : "add it to table \(table) (docs/DEPLOYMENT.md lists the columns the lookup reads)"))
                }
                guard entry.readable else {
                    throw DatabaseError.schema(
                        engine: "PostgreSQL",
                        reason: "\(grantee) may not read column '\(table).\(column)'; "
                            + "GRANT SELECT ON maps, subnets TO \(username.isEmpty ? "<user>" : username)")
                }
            }
        }
        let macType = found["maps.mac"]?.type ?? "text"
        guard PostgresColumnTypes.texts.contains(macType) || macType == "macaddr" || macType == "macaddr8" else {
            throw DatabaseError.schema(
                engine: "PostgreSQL",
                reason: "column 'maps.mac' is of type \(macType); make it MACADDR, MACADDR8 or text (CHAR(17), VARCHAR, TEXT)")
        }
        return PostgresColumnTypes(found.mapValues(\.type))
    }

    /// Nothing to reload: every lookup reads the live tables, and broken connections are replaced
    /// by themselves. Checks the server answers on the lookups' connections, so a reload reports
    /// an outage, and learns the column types again (the site may have changed them).
    public func reinitialise() async throws {
        learned.withLock { $0 = nil }
        let answer = lookups.run(PostgresQuery(unsafeSQL: "SELECT 1"), timeout: timeout)
        do {
            _ = try await answer.get()
        } catch is StatementConnections.TimedOut {
            throw DatabaseError.timeout(engine: engineName, seconds: timeout)
        } catch {
            throw Self.classify(error)
        }
    }

    /// `.schema` for an error PostgreSQL raised because of the query itself (SQLSTATE class 42:
    /// undefined table or column, no operator for the column's type, a type mismatch, no
    /// privilege; 22P02: the MAC cannot be read as the column's type), `.unavailable` for the
    /// rest (no connection, the server shutting down, a time-out).
    static func classify(_ error: any Error) -> DatabaseError {
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState], state.hasPrefix("42") || state == "22P02" {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            return .schema(engine: "PostgreSQL", reason: "\(message) (SQLSTATE \(state)); \(schemaFix(state))")
        }
        return .unavailable(engine: "PostgreSQL", reason: describe(error))
    }

    private static func schemaFix(_ state: String) -> String {
        switch state {
        case "42P01": "create the table as docs/DEPLOYMENT.md shows, or check POSTGRESQL_DATABASE and the user's search_path"
        case "42703": "add the column, or remove it from EXTRA_MAPS/EXTRA_SUBNETS"
        case "42501": "GRANT SELECT ON maps, subnets TO the daemon's POSTGRESQL_USERNAME"
        case "42883", "42804", "22P02":
            "a column type the lookup cannot use; docs/DEPLOYMENT.md lists the accepted types "
                + "(maps.subnet and subnets.subnet, and both serial columns, must be comparable)"
        default: "check the reservation tables against docs/DEPLOYMENT.md"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}

/// A parameter PostgreSQL types itself: sent as text with no type (OID 0), it takes the type of
/// what it is compared with, as the original's untyped literals did, so `mac = $1` is the
/// column's own operator and index whether `maps.mac` is CHAR(17), TEXT or MACADDR.
struct UntypedText: PostgresDynamicTypeEncodable {
    let text: String
    init(_ text: String) { self.text = text }
    var psqlType: PostgresDataType { .null }
    var psqlFormat: PostgresFormat { .text }
    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}

/// Reads one result row of `DefinitionQuery`, whatever column types the site chose.
private struct PostgresDefinitionRow: DefinitionRow {
    let cells: [PostgresCell]
    let mac: String

    /// Checks the column count, then reads the row as every SQL engine does.
    func checkedRecord(extraKeys: [String]) throws -> DefinitionRecord {
        guard cells.count >= DefinitionQuery.Column.firstExtra + extraKeys.count else {
            throw DatabaseError.unavailable(engine: "PostgreSQL", reason: "the lookup returned \(cells.count) columns")
        }
        return try record(extraKeys: extraKeys)
    }

    func text(_ index: Int) throws -> String? {
        let cell = cells[index]
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .int2, .int4, .int8: return String(try cell.decode(Int64.self))
        case .float4, .float8: return String(try cell.decode(Double.self))
        case .bool: return String(try cell.decode(Bool.self))
        default:
            do {
                return try cell.decode(String.self)
            } catch {
                throw DatabaseError.malformedRecord(
                    mac: mac, column: cell.columnName, value: "(\(cell.dataType))", reason: "cannot be read as text")
            }
        }
    }

    func integer(_ index: Int, column: String) throws -> Int64? {
        let cell = cells[index]
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .int2, .int4, .int8: return try cell.decode(Int64.self)
        default:
            let value = try text(index) ?? ""
            guard let number = Int64(value.trimmingCharacters()) else {
                throw DatabaseError.malformedRecord(mac: mac, column: column, value: value, reason: "not an integer")
            }
            return number
        }
    }

    func extraValue(_ index: Int) throws -> ExtraValue? {
        let cell = cells[index]
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(Int(try cell.decode(Int64.self)))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        default: return try text(index).map(ExtraValue.string)
        }
    }
}

extension PostgreSQLDatabase {
    /// `staticdhcpd db check` for PostgreSQL: the columns and their types and grants, the row
    /// counts, every reservation read as the lookup reads it (malformed ones named), the plan of
    /// a lookup and whether an index serves it, and one sample lookup's time.
    /// The first query (the catalog) keeps this database's time-out, so a server that is down
    /// or hung is reported rather than waited for.
    public func check() async -> DatabaseCheck {
        var report = DatabaseCheck(engine: engineName)
        let found: [String: (type: String, readable: Bool)]
        do {
            found = try await catalog()
        } catch let error as DatabaseError {
            report.problems.append(error.description)
            return report
        } catch {
            report.problems.append(Self.classify(error).description)
            return report
        }
        report.columns = (query.mapsColumns.map { ("maps", $0) } + query.subnetsColumns.map { ("subnets", $0) }).map { table, column in
            let entry = found["\(table).\(column)"]
            return DatabaseCheck.Column(table: table, column: column, type: entry?.type, readable: entry?.readable ?? false)
        }
        let types: PostgresColumnTypes
        do {
            types = try Self.check(found, query: query, username: username)
        } catch {
            report.problems.append("\(error)")
            return report
        }
        do {
            for table in ["maps", "subnets"] {
                for try await count in try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                    .decode(Int64.self) {
                    report.rowCounts[table] = Int(count)
                }
            }
            var sample: MAC?
            let rows = try await client.query(PostgresQuery(unsafeSQL: query.postgresSQL(types, allRows: true)), logger: logger)
            for try await row in rows {
                let cells = Array(row)
                let macText = (try? cells[cells.count - 1].decode(String.self)) ?? "?"
                do {
                    guard let mac = Self.mac(macText) else {
                        throw DatabaseError.malformedRecord(mac: macText, column: "maps.mac", value: macText, reason: "not a MAC address")
                    }
                    let record = try PostgresDefinitionRow(cells: Array(cells.dropLast()), mac: macText).checkedRecord(extraKeys: extraKeys)
                    _ = try record.definition(for: mac)
                    if sample == nil { sample = mac }
                } catch let error as DatabaseError {
                    report.malformedCount += 1
                    if report.malformed.count < DatabaseCheck.malformedLimit { report.malformed.append(error.description) }
                }
            }
            if report.malformedCount > 0 {
                report.warnings.append("\(report.malformedCount) reservations are malformed: those clients get no answer")
            }
            let probe = sample ?? MAC(0)
            report.plan = try await lookupPlan(probe)
            let indexed = !report.plan.contains { $0.contains("Seq Scan on maps") }
            report.usesIndex = indexed
            if !indexed {
                report.warnings.append(query.caseInsensitiveMACs
                    ? "no index serves the lookup: CREATE INDEX ON maps (lower(mac)) (CASE_INSENSITIVE_MACS is on)"
                    : "no index serves the lookup: make maps.mac the primary key or CREATE INDEX ON maps (mac)")
            }
            let started = ContinuousClock.now
            _ = try await lookupMAC(probe)
            report.sampleLookupMilliseconds = (ContinuousClock.now - started).milliseconds
        } catch let error as DatabaseError {
            report.problems.append(error.description)
        } catch {
            report.problems.append(Self.classify(error).description)
        }
        return report
    }

    /// A MAC as `maps.mac` holds it; a MACADDR8's text form of a 48-bit address has ff:fe in
    /// its middle.
    static func mac(_ text: String) -> MAC? {
        let parts = text.split(separator: ":")
        if parts.count == 8, parts[3].lowercased() == "ff", parts[4].lowercased() == "fe" {
            return MAC((parts[0..<3] + parts[5..<8]).joined(separator: ":"))
        }
        return MAC(text.trimmingCharacters())
    }
}

