import DHCPWire
import Foundation
import PostgresNIO
import Testing

@testable import Databases

/// The reservation tables as sites write them: the original's text columns, PostgreSQL's own
/// types, MACADDR8 (issue #20; docs/DEPLOYMENT.md "The reservation tables").
enum PostgresSchema: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case original, native, macaddr8

    var testDescription: String { rawValue }

    /// Creates and fills the tables. The data is the same in every schema; beta's MAC is stored
    /// in upper case, as some sites' tools write it.
    var sql: String {
        let tables: String
        switch self {
        case .original:
            // The original's postgres.sql, with its lower(mac) index and two extra columns.
            tables = """
                CREATE TABLE subnets (subnet VARCHAR(18) NOT NULL, serial INTEGER NOT NULL DEFAULT 0,
                    lease_time INTEGER NOT NULL, gateway TEXT DEFAULT NULL, subnet_mask VARCHAR(15) DEFAULT NULL,
                    broadcast_address VARCHAR(15) DEFAULT NULL, ntp_servers TEXT DEFAULT NULL,
                    domain_name_servers VARCHAR(50) DEFAULT NULL, domain_name TEXT DEFAULT NULL, site TEXT,
                    PRIMARY KEY (subnet, serial));
                CREATE TABLE maps (mac CHAR(17) PRIMARY KEY NOT NULL, ip VARCHAR(15) NOT NULL, hostname TEXT DEFAULT NULL,
                    subnet VARCHAR(18) NOT NULL, serial INTEGER NOT NULL DEFAULT 0, vlan INTEGER, switch_ip VARCHAR(15),
                    UNIQUE (ip, subnet, serial), FOREIGN KEY (subnet, serial) REFERENCES subnets (subnet, serial));
                CREATE INDEX case_insensitive_macs ON maps (lower(mac));
                """
        case .native, .macaddr8:
            tables = """
                CREATE TABLE subnets (subnet CIDR NOT NULL, serial SMALLINT NOT NULL DEFAULT 0, lease_time INTEGER NOT NULL,
                    gateway INET, subnet_mask INET, broadcast_address INET, ntp_servers TEXT, domain_name_servers TEXT,
                    domain_name TEXT, site TEXT, PRIMARY KEY (subnet, serial));
                CREATE TABLE maps (mac \(self == .native ? "MACADDR" : "MACADDR8") PRIMARY KEY, ip INET NOT NULL,
                    hostname TEXT, subnet CIDR NOT NULL, serial SMALLINT NOT NULL DEFAULT 0, vlan SMALLINT, switch_ip INET,
                    UNIQUE (ip, subnet, serial), FOREIGN KEY (subnet, serial) REFERENCES subnets (subnet, serial));
                """
        }
        return tables + """

            INSERT INTO subnets VALUES ('192.0.2.0/24', 0, 3600, '192.0.2.1', '255.255.255.0', '192.0.2.255',
                '192.0.2.123', '192.0.2.53, 192.0.2.54', 'example.test', 'north');
            INSERT INTO subnets VALUES ('192.0.2.0/24', 1, 7200, '192.0.2.2', NULL, NULL, NULL, NULL, NULL, 'south');
            INSERT INTO maps VALUES ('00:11:22:33:44:55', '192.0.2.10', 'alpha', '192.0.2.0/24', 0, 12, '192.0.2.250');
            INSERT INTO maps VALUES ('AA:BB:CC:DD:EE:01', '192.0.2.11', NULL, '192.0.2.0/24', 1, NULL, NULL);
            """
    }

    /// Whether a MAC stored in upper case is found without CASE_INSENSITIVE_MACS: MACADDR and
    /// MACADDR8 compare addresses, not spellings.
    var caseBlind: Bool { self != .original }

    static let query = try! DefinitionQuery(extraMaps: ["vlan", "switch_ip"], extraSubnets: ["site"])
    static let alpha = MAC(0x0011_2233_4455)
    static let beta = MAC(0xAABB_CCDD_EE01)

    static let expected: [MAC: Definition] = [
        alpha: Definition(
            ip: IPv4(192, 0, 2, 10), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 0, hostname: "alpha",
            gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0), broadcastAddress: IPv4(192, 0, 2, 255),
            domainName: "example.test", domainNameServers: [IPv4(192, 0, 2, 53), IPv4(192, 0, 2, 54)],
            ntpServers: [IPv4(192, 0, 2, 123)],
            extra: ["maps.vlan": .integer(12), "maps.switch_ip": .string("192.0.2.250"), "subnets.site": .string("north")]),
        beta: Definition(
            ip: IPv4(192, 0, 2, 11), leaseTime: 7200, subnet: "192.0.2.0/24", serial: 1,
            gateways: [IPv4(192, 0, 2, 2)], extra: ["subnets.site": .string("south")]),
    ]
}

/// A PostgreSQL lookup engine on `server`, connecting as `username`.
private func postgresDatabase(
    _ server: PostgresTestServer, query: DefinitionQuery,
    username: String = PostgresTestServer.username, password: String = PostgresTestServer.password,
    timeout: Double = 5
) throws -> PostgreSQLDatabase {
    var settings = DatabaseConfiguration().postgresql
    settings.host = "127.0.0.1"
    settings.port = server.port
    settings.username = username
    settings.password = password
    settings.database = PostgresTestServer.database
    settings.maximumConnections = 2
    return try PostgreSQLDatabase(settings: settings, query: query, timeout: timeout, logger: quietLogger)
}

private func withServer(_ sql: String, _ body: (PostgresTestServer) async throws -> Void) async throws {
    let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
    defer { server.stop() }
    try await onOwnThread { try server.psql(sql) }
    try await body(server)
}

private func caseInsensitive(_ on: Bool) throws -> DefinitionQuery {
    try DefinitionQuery(extraMaps: PostgresSchema.query.extraMaps, extraSubnets: PostgresSchema.query.extraSubnets, caseInsensitiveMACs: on)
}

@Suite("PostgreSQL column types: the original's text columns and PostgreSQL's own", .serialized,
       .enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
struct PostgresColumnTypesTests {
    @Test(arguments: PostgresSchema.allCases)
    func everySchemaAnswersTheSameDefinitions(_ schema: PostgresSchema) async throws {
        try await withServer(schema.sql) { server in
            for insensitive in [false, true] {
                let database = try postgresDatabase(server, query: try caseInsensitive(insensitive))
                defer { database.shutdown() }
                let alpha = PostgresSchema.alpha, beta = PostgresSchema.beta
                #expect(try await database.lookupMAC(alpha) == [PostgresSchema.expected[alpha]!], "\(schema) CI=\(insensitive)")
                let betaFound = try await database.lookupMAC(beta)
                if insensitive || schema.caseBlind {
                    #expect(betaFound == [PostgresSchema.expected[beta]!], "\(schema) CI=\(insensitive)")
                } else {
                    #expect(betaFound.isEmpty, "the text column holds upper case and CASE_INSENSITIVE_MACS is off")
                }
                #expect(try await database.lookupMAC(MAC(0x0200_0000_9999)).isEmpty)
            }
        }
    }

    @Test(arguments: PostgresSchema.allCases)
    func theMACLookupUsesAnIndex(_ schema: PostgresSchema) async throws {
        try await withServer(schema.sql) { server in
            for insensitive in [false, true] {
                let database = try postgresDatabase(server, query: try caseInsensitive(insensitive))
                defer { database.shutdown() }
                let plan = try await database.lookupPlan(PostgresSchema.alpha).joined(separator: "\n")
                // With sequential scans priced out, a Seq Scan on maps means no index can serve.
                #expect(!plan.contains("Seq Scan on maps"), "\(schema) CI=\(insensitive):\n\(plan)")
                #expect(plan.contains("Index Scan") || plan.contains("Index Only Scan"), "\(schema) CI=\(insensitive):\n\(plan)")
                if schema == .original && insensitive {
                    #expect(plan.contains("case_insensitive_macs"), "the original's lower(mac) index:\n\(plan)")
                } else {
                    #expect(plan.contains("maps_pkey"), "\(schema) CI=\(insensitive):\n\(plan)")
                }
            }
        }
    }

    @Test func aMissingColumnIsASchemaErrorNamingIt() async throws {
        try await withServer(PostgresSchema.native.sql + "ALTER TABLE maps DROP COLUMN hostname;") { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query)
            defer { database.shutdown() }
            let error = try await #require(throws: DatabaseError.self) { try await database.lookupMAC(PostgresSchema.alpha) }
            #expect(error.isSchemaError)
            #expect(error.description.contains("column 'maps.hostname' does not exist"), "\(error)")
            #expect(!error.description.contains("unavailable"), "\(error)")

            try await onOwnThread { try server.psql("ALTER TABLE maps ADD COLUMN hostname TEXT;") }
            let extra = try postgresDatabase(server, query: try DefinitionQuery(extraSubnets: ["vlan_id"]))
            defer { extra.shutdown() }
            let extraError = try await #require(throws: DatabaseError.self) { try await extra.lookupMAC(PostgresSchema.alpha) }
            #expect(extraError.description.contains("column 'subnets.vlan_id' does not exist"), "\(extraError)")
            #expect(extraError.description.contains("remove it from EXTRA_SUBNETS"), "\(extraError)")
        }
    }

    @Test func aMissingTableIsASchemaErrorNamingIt() async throws {
        try await withServer(PostgresSchema.native.sql + "ALTER TABLE subnets RENAME TO networks;") { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query)
            defer { database.shutdown() }
            let error = try await #require(throws: DatabaseError.self) { try await database.lookupMAC(PostgresSchema.alpha) }
            #expect(error.isSchemaError)
            #expect(error.description.contains("table 'subnets' does not exist"), "\(error)")
            #expect(!error.description.contains("unavailable"), "\(error)")

            // Fixed under the running daemon: the next lookup learns the tables again.
            try await onOwnThread { try server.psql("ALTER TABLE networks RENAME TO subnets;") }
            #expect(try await database.lookupMAC(PostgresSchema.alpha) == [PostgresSchema.expected[PostgresSchema.alpha]!])
        }
    }

    @Test func noSelectGrantIsASchemaErrorNamingTheGrant() async throws {
        let grants = "CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; GRANT SELECT ON maps TO reader;"
        try await withServer(PostgresSchema.native.sql + grants) { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query, username: "reader", password: "reader-pw")
            defer { database.shutdown() }
            let error = try await #require(throws: DatabaseError.self) { try await database.lookupMAC(PostgresSchema.alpha) }
            #expect(error.isSchemaError)
            #expect(error.description.contains("reader may not read column 'subnets.subnet'"), "\(error)")
            #expect(error.description.contains("GRANT SELECT ON maps, subnets TO reader"), "\(error)")
            #expect(!error.description.contains("unavailable"), "\(error)")
        }
    }

    @Test func aTypeMismatchPostgreSQLRejectsIsASchemaError() async throws {
        // maps.subnet as text against subnets.subnet as CIDR: PostgreSQL has no text = cidr.
        let mixed = PostgresSchema.native.sql + "ALTER TABLE maps DROP CONSTRAINT maps_subnet_serial_fkey; "
            + "ALTER TABLE maps ALTER COLUMN subnet TYPE TEXT;"
        try await withServer(mixed) { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query)
            defer { database.shutdown() }
            let error = try await #require(throws: DatabaseError.self) { try await database.lookupMAC(PostgresSchema.alpha) }
            #expect(error.isSchemaError)
            #expect(error.description.contains("operator does not exist: text = cidr"), "\(error)")
            #expect(error.description.contains("SQLSTATE 42883"), "\(error)")
            #expect(!error.description.contains("unavailable"), "\(error)")
        }
    }

    @Test func aServerThatIsDownIsStillUnavailable() async throws {
        try await withServer(PostgresSchema.native.sql) { server in
            var config = DatabaseConfiguration(engine: .named("PostgreSQL"))
            config.postgresql.host = "127.0.0.1"
            config.postgresql.port = server.port
            config.postgresql.username = PostgresTestServer.username
            config.postgresql.password = PostgresTestServer.password
            config.postgresql.database = PostgresTestServer.database
            config.lookupTimeout = 2
            let database = try DatabaseFactory.make(config, logger: quietLogger)
            try await onOwnThread { try server.halt() }
            let error = try await #require(throws: DatabaseError.self) { try await database.lookupMAC(PostgresSchema.alpha) }
            #expect(!error.isSchemaError)
            #expect(!error.description.contains("rejects the lookup"), "\(error)")
            #expect(error.description.hasPrefix("PostgreSQL database"), "\(error)")
        }
    }
}

/// The lookup's prepared statements and its own deadline (DATABASE_TIMEOUT without `TimeoutDatabase`).
@Suite("PostgreSQL lookups: prepared statements and DATABASE_TIMEOUT", .serialized,
       .enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
struct PostgresPreparedLookupTests {
    @Test func aLookupPastTheTimeOutFailsAndTheNextOneIsAnswered() async throws {
        try await withServer(PostgresSchema.original.sql) { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query, timeout: 0.5)
            defer { database.shutdown() }
            let alpha = PostgresSchema.alpha
            #expect(try await database.lookupMAC(alpha) == [PostgresSchema.expected[alpha]!])
            // Another session holds the table: the lookup waits on its lock until the deadline.
            let holder = try await PostgresConnection.connect(
                configuration: .init(host: "127.0.0.1", port: server.port, username: PostgresTestServer.username,
                                     password: PostgresTestServer.password, database: PostgresTestServer.database, tls: .disable),
                id: 1, logger: quietLogger)
            try await holder.query("BEGIN", logger: quietLogger)
            try await holder.query("LOCK TABLE maps IN ACCESS EXCLUSIVE MODE", logger: quietLogger)
            let error = try await #require(throws: DatabaseError.self) { try await database.lookupResuming(alpha) }
            #expect(error.description.contains("0.5"), "\(error)")
            #expect(!error.isSchemaError)
            try await holder.query("ROLLBACK", logger: quietLogger)
            try await holder.close()
            #expect(try await database.lookupMAC(alpha) == [PostgresSchema.expected[alpha]!])
            try await database.reinitialise()
        }
    }

    @Test func aResultTypeChangedUnderTheDaemonIsPreparedAgain() async throws {
        try await withServer(PostgresSchema.original.sql) { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query)
            defer { database.shutdown() }
            let alpha = PostgresSchema.alpha
            // Both connections (POSTGRESQL_MAXIMUM_CONNECTIONS = 2) prepare the lookup.
            for _ in 0..<4 { #expect(try await database.lookupMAC(alpha) == [PostgresSchema.expected[alpha]!]) }
            // A prepared statement's result type may not change: PostgreSQL rejects each old one once.
            try await onOwnThread { try server.psql("ALTER TABLE subnets ALTER COLUMN lease_time TYPE BIGINT") }
            var failures = 0
            var answers: [[Definition]] = []
            for _ in 0..<4 {
                do { answers.append(try await database.lookupMAC(alpha)) } catch { failures += 1 }
            }
            #expect(failures <= 2, "each connection's old statement fails once, then it is prepared again")
            #expect(answers.count >= 2 && answers.allSatisfy { $0 == [PostgresSchema.expected[alpha]!] })
        }
    }

    @Test func aMACWithAQuoteIsNeverPartOfTheStatement() async throws {
        // The EXECUTE carries the MAC as a quoted literal; quoting keeps any text a literal.
        try await withServer(PostgresSchema.original.sql) { server in
            let database = try postgresDatabase(server, query: PostgresSchema.query)
            defer { database.shutdown() }
            var settings = DatabaseConfiguration().postgresql
            settings.host = "127.0.0.1"
            settings.port = server.port
            settings.username = PostgresTestServer.username
            settings.password = PostgresTestServer.password
            settings.database = PostgresTestServer.database
            let connections = StatementConnections(
                configuration: try PostgreSQLDatabase.connectionConfiguration(settings), count: 1, logger: quietLogger)
            defer { connections.closeAll() }
            let rows = try await connections.run(
                prepared: "SELECT count(*)::int8 FROM maps WHERE mac = $1", arguments: [.text("x'); DROP TABLE maps; --")], timeout: 5
            ).get()
            #expect(try rows.first?.decode(Int64.self) == 0)
            // Quotes and backslashes come back as sent, whatever standard_conforming_strings says.
            let awkward = #"a'b\'c\\d"e"# + "\u{e9}"
            for conforming in ["on", "off"] {
                _ = try await connections.run("SET standard_conforming_strings = \(unescaped: conforming)", timeout: 5).get()
                let echoed = try await connections.run(
                    prepared: "SELECT $1::text, array_length($2::text[], 1), $3::int8", arguments: [.text(awkward), .textArray([awkward, "x"]), .integer(-7)], timeout: 5
                ).get()
                let row = try #require(echoed.first).decode((String, Int32, Int64).self)
                #expect(row.0 == awkward && row.1 == 2 && row.2 == -7, "standard_conforming_strings \(conforming)")
            }
            // A NUL byte fails that call with a message naming it; nothing is sent.
            await #expect { try await connections.run(prepared: "SELECT $1::text", arguments: [.text("a\u{0}b")], timeout: 5).get() } throws: {
                "\($0)".contains("NUL byte")
            }
            #expect(try await database.lookupMAC(PostgresSchema.alpha) == [PostgresSchema.expected[PostgresSchema.alpha]!])
        }
    }
}

@Suite("The PostgreSQL lookup for each column type")
struct PostgresLookupSQLTests {
    static let text = PostgresColumnTypes([
        "maps.mac": "bpchar", "maps.ip": "varchar", "subnets.gateway": "text", "subnets.subnet": "varchar",
        "maps.serial": "int4", "subnets.lease_time": "int4",
    ])
    static let native = PostgresColumnTypes([
        "maps.mac": "macaddr", "maps.ip": "inet", "subnets.gateway": "inet", "subnets.subnet_mask": "inet",
        "subnets.broadcast_address": "inet", "maps.subnet": "cidr", "subnets.subnet": "cidr", "maps.serial": "int2",
        "subnets.lease_time": "int4", "maps.switch_ip": "inet", "maps.since": "date", "maps.vlan": "int2",
    ])

    @Test func textColumnsAreReadAsTheyAre() throws {
        let sql = try caseInsensitive(false).postgresSQL(Self.text)
        #expect(sql.hasPrefix("SELECT m.ip, m.hostname, s.gateway, s.subnet_mask,"), "\(sql)")
        #expect(sql.hasSuffix("WHERE m.mac = $1 LIMIT 1"), "\(sql)")
        #expect(try caseInsensitive(true).postgresSQL(Self.text).hasSuffix("WHERE lower(m.mac) = $1 LIMIT 1"))
    }

    @Test func nativeColumnsAreReadAsText() throws {
        let query = try DefinitionQuery(extraMaps: ["switch_ip", "since", "vlan"], caseInsensitiveMACs: true)
        let sql = query.postgresSQL(Self.native)
        #expect(sql.hasPrefix("SELECT host(m.ip), m.hostname, host(s.gateway), host(s.subnet_mask), host(s.broadcast_address),"), "\(sql)")
        #expect(sql.contains("s.lease_time, m.subnet::text, m.serial, abbrev(m.switch_ip), m.since::text, m.vlan FROM"), "\(sql)")
        // MACADDR compares case-blind: no lower(), which would not exist for it anyway.
        #expect(sql.hasSuffix("WHERE m.mac = $1 LIMIT 1"), "\(sql)")
    }

    @Test func aMACColumnOfAnotherTypeIsRefusedByName() throws {
        let found: [String: (type: String, readable: Bool)] = Dictionary(
            uniqueKeysWithValues: (PostgresSchema.query.mapsColumns.map { "maps.\($0)" } + PostgresSchema.query.subnetsColumns.map { "subnets.\($0)" })
                .map { ($0, (type: $0 == "maps.mac" ? "int8" : "text", readable: true)) })
        #expect {
            try PostgreSQLDatabase.check(found, query: PostgresSchema.query, username: "dhcp")
        } throws: { error in
            (error as? DatabaseError)?.description.contains("column 'maps.mac' is of type int8; make it MACADDR") == true
        }
    }
}

@Suite struct SQLiteSchemaErrorTests {
    @Test func aMissingColumnOrTableIsASchemaErrorNotAnOutage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("dhcp.sqlite3")
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        let database = try SQLiteDatabase(path: path, query: try DefinitionQuery(extraMaps: ["room"]), logger: quietLogger)
        let error = try await #require(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.alpha) }
        #expect(error.isSchemaError)
        #expect(error.description.contains("no such column: m.room"), "\(error)")
        #expect(error.description.contains("remove it from EXTRA_MAPS/EXTRA_SUBNETS"), "\(error)")
        #expect(!error.description.contains("unavailable"), "\(error)")

        let empty = directory.file("empty.sqlite3")
        try makeSQLiteFile(empty, sql: "CREATE TABLE other (x INTEGER);")
        let noTables = try SQLiteDatabase(path: empty, query: try DefinitionQuery(), logger: quietLogger)
        let tableError = try await #require(throws: DatabaseError.self) { try await noTables.lookupMAC(ReservationSet.alpha) }
        #expect(tableError.isSchemaError)
        #expect(tableError.description.contains("no such table: maps"), "\(tableError)")
    }
}

/// `staticdhcpd db check` against real PostgreSQL databases, good and broken.
@Suite("db check on PostgreSQL", .serialized,
       .enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
struct PostgresDatabaseCheckTests {
    private func configuration(_ server: PostgresTestServer, caseInsensitive: Bool = false, username: String = PostgresTestServer.username,
                               password: String = PostgresTestServer.password) -> DatabaseConfiguration {
        var config = DatabaseConfiguration(engine: .named("PostgreSQL"))
        config.extraMaps = PostgresSchema.query.extraMaps
        config.extraSubnets = PostgresSchema.query.extraSubnets
        config.caseInsensitiveMACs = caseInsensitive
        config.postgresql.host = "127.0.0.1"
        config.postgresql.port = server.port
        config.postgresql.username = username
        config.postgresql.password = password
        config.postgresql.database = PostgresTestServer.database
        config.lookupTimeout = 3
        return config
    }

    @Test(arguments: [PostgresSchema.original, .native])
    func aGoodDatabaseIsOK(_ schema: PostgresSchema) async throws {
        try await withServer(schema.sql) { server in
            let report = await DatabaseCheck.run(configuration(server), logger: quietLogger)
            #expect(report.ok, "\(report.text)")
            #expect(report.problems.isEmpty && report.warnings.isEmpty, "\(report.text)")
            #expect(report.rowCounts == ["maps": 2, "subnets": 2])
            #expect(report.usesIndex == true, "\(report.text)")
            #expect(report.malformedCount == 0)
            #expect(report.sampleLookupMilliseconds != nil)
            let mac = try #require(report.columns.first { $0.table == "maps" && $0.column == "mac" })
            #expect(mac.type == (schema == .original ? "bpchar" : "macaddr") && mac.readable)
            #expect(report.text.hasSuffix("OK: the daemon will work with this database"))
            #expect(report.json.contains("\"ok\" : true"), "\(report.json)")
        }
    }

    @Test func aMissingGrantIsNotOK() async throws {
        let grants = "CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; GRANT SELECT ON maps TO reader;"
        try await withServer(PostgresSchema.native.sql + grants) { server in
            let report = await DatabaseCheck.run(configuration(server, username: "reader", password: "reader-pw"), logger: quietLogger)
            #expect(!report.ok)
            #expect(report.problems.first?.contains("GRANT SELECT ON maps, subnets TO reader") == true, "\(report.text)")
            let subnet = try #require(report.columns.first { $0.table == "subnets" && $0.column == "subnet" })
            #expect(subnet.type == "cidr" && !subnet.readable)
            #expect(report.text.contains("subnets.subnet: cidr (no SELECT grant)"), "\(report.text)")
            #expect(report.json.contains("\"ok\" : false"), "\(report.json)")
        }
    }

    @Test func aWrongColumnTypeIsNotOK() async throws {
        let wrong = PostgresSchema.native.sql + "ALTER TABLE maps ALTER COLUMN mac TYPE BIGINT USING 1;"
        // Two rows would clash on the primary key with one value: keep one.
        try await withServer(wrong.replacingOccurrences(of: "INSERT INTO maps VALUES ('AA:BB:CC:DD:EE:01', '192.0.2.11', NULL, '192.0.2.0/24', 1, NULL, NULL);", with: "")) { server in
            let report = await DatabaseCheck.run(configuration(server), logger: quietLogger)
            #expect(!report.ok)
            #expect(report.problems.first?.contains("column 'maps.mac' is of type int8") == true, "\(report.text)")
        }
    }

    @Test func malformedRowsAndAMissingIndexAreNamed() async throws {
        let broken = PostgresSchema.original.sql + """
            DROP INDEX case_insensitive_macs;
            ALTER TABLE maps DROP CONSTRAINT maps_subnet_serial_fkey;
            INSERT INTO maps VALUES ('02:00:00:00:00:07', '192.0.2.300', NULL, '192.0.2.0/24', 0, NULL, NULL);
            INSERT INTO maps VALUES ('02:00:00:00:00:08', '192.0.2.8', NULL, '10.0.0.0/8', 0, NULL, NULL);
            INSERT INTO maps VALUES ('not-a-mac', '192.0.2.9', NULL, '192.0.2.0/24', 0, NULL, NULL);
            """
        try await withServer(broken) { server in
            let report = await DatabaseCheck.run(configuration(server, caseInsensitive: true), logger: quietLogger)
            // Malformed rows and no index are warnings: the daemon still serves the rest.
            #expect(report.ok, "\(report.text)")
            #expect(report.malformedCount == 3, "\(report.text)")
            #expect(report.malformed.contains { $0.contains("'maps.ip' holds '192.0.2.300'") }, "\(report.malformed)")
            #expect(report.malformed.contains { $0.contains("no subnets row has subnet '10.0.0.0/8'") }, "\(report.malformed)")
            #expect(report.malformed.contains { $0.contains("not-a-mac") && $0.contains("not a MAC address") }, "\(report.malformed)")
            #expect(report.usesIndex == false, "\(report.text)")
            #expect(report.warnings.contains { $0.contains("CREATE INDEX ON maps (lower(mac))") }, "\(report.warnings)")
        }
    }

    @Test func aServerThatIsDownIsNotOK() async throws {
        try await withServer(PostgresSchema.native.sql) { server in
            try await onOwnThread { try server.halt() }
            let report = await DatabaseCheck.run(configuration(server), logger: quietLogger)
            #expect(!report.ok)
            #expect(report.problems.first?.hasPrefix("PostgreSQL database") == true, "\(report.text)")
            #expect(report.problems.first?.contains("rejects the lookup") == false, "\(report.text)")
        }
    }
}

@Suite struct DatabaseCheckOtherEngineTests {
    @Test func sqliteIsCheckedByASampleLookup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("dhcp.sqlite3")
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        var config = DatabaseConfiguration(engine: .named("SQLite"))
        config.sqliteFile = path
        let good = await DatabaseCheck.run(config, logger: quietLogger)
        #expect(good.ok, "\(good.text)")
        #expect(good.sampleLookupMilliseconds != nil)
        #expect(good.rowCounts == ["maps": 3, "subnets": 3], "\(good.text)")
        #expect(good.columns.first { $0.table == "maps" && $0.column == "mac" }?.type == "TEXT", "\(good.text)")
        let mode = try #require(good.journalMode)
        #expect(good.warnings.contains { $0.contains("not WAL") } == (mode.lowercased() != "wal"), "\(good.text)")
        #expect(good.json.contains("\"ok\" : true"), "\(good.json)")

        #expect(mode.lowercased() == "wal")
        let rollback = directory.file("rollback.sqlite3")
        try execute(rollback, ReservationSet.sql) // SQLite's default journal, not WAL
        var rollbackConfig = config
        rollbackConfig.sqliteFile = rollback
        let slower = await DatabaseCheck.run(rollbackConfig, logger: quietLogger)
        #expect(slower.ok, "\(slower.text)")
        #expect(slower.journalMode == "delete")
        #expect(slower.warnings.contains { $0.contains("journal mode delete, not WAL") }, "\(slower.text)")

        config.extraMaps = ["room"]
        let broken = await DatabaseCheck.run(config, logger: quietLogger)
        #expect(!broken.ok)
        #expect(broken.problems.first?.contains("no such column: m.room") == true, "\(broken.text)")
        #expect(broken.text.contains("maps.room: MISSING"), "\(broken.text)")
        #expect(broken.text.hasSuffix("NOT OK: the daemon will not work with this database"))
        #expect(broken.json.contains("\"ok\" : false"), "\(broken.json)")
    }

    @Test func macaddr8TextOfA48BitAddressIsReadAsTheMAC() {
        #expect(PostgreSQLDatabase.mac("02:00:00:ff:fe:00:00:01") == MAC(0x0200_0000_0001))
        #expect(PostgreSQLDatabase.mac("02:00:00:00:00:01") == MAC(0x0200_0000_0001))
        #expect(PostgreSQLDatabase.mac("02:00:00:12:34:00:00:01") == nil)
        #expect(PostgreSQLDatabase.mac("not-a-mac") == nil)
    }
}
