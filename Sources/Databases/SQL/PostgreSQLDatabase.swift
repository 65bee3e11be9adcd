import DHCPWire
import Logging
import NIOSSL
import PostgresNIO

/// `DATABASE_ENGINE = "PostgreSQL"`: the spec's schema and query over a postgres-nio pool.
///
/// The pool holds at most `POSTGRESQL_MAXIMUM_CONNECTIONS` connections, which also bounds the
/// lookups in flight. Connections are made on demand and remade after a failure, so a server that
/// is down at start or restarts mid-run is picked up again without intervention; while it is
/// down, lookups fail (and `DATABASE_TIMEOUT` bounds how long they wait).
/// Several daemons on several machines can serve one site from one such database.
public final class PostgreSQLDatabase: Database {
    public var engineName: String { "PostgreSQL" }

    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let sql: String
    private let extraKeys: [String]
    private let logger: Logger

    public init(settings: DatabaseConfiguration.PostgreSQL, query: DefinitionQuery, logger: Logger) throws {
        let configuration = try Self.clientConfiguration(settings)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.runner = Task { await client.run() }
        self.sql = query.sql(.postgresql)
        self.extraKeys = query.extraKeys
        self.logger = logger
    }

    deinit { runner.cancel() }

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
    public func shutdown() { runner.cancel() }

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

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        let macText = mac.description
        var binds = PostgresBindings(capacity: 1)
        binds.append(macText)
        let record: DefinitionRecord?
        do {
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            var first: DefinitionRecord?
            for try await row in rows where first == nil {
                first = try PostgresDefinitionRow(cells: Array(row), mac: macText).checkedRecord(extraKeys: extraKeys)
            }
            record = first
        } catch let error as DatabaseError {
            throw error
        } catch {
            throw DatabaseError.unavailable(engine: engineName, reason: Self.describe(error))
        }
        return try record.map { [try $0.definition(for: mac)] } ?? []
    }

    /// Nothing to reload: every lookup reads the live tables, and the pool replaces broken
    /// connections by itself. Checks the server answers, so a reload reports an outage.
    public func reinitialise() async throws {
        do {
            try await client.query("SELECT 1", logger: logger)
        } catch {
            throw DatabaseError.unavailable(engine: engineName, reason: Self.describe(error))
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
