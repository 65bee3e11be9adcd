import DHCPWire
import Databases
import Foundation
import Testing

/// Every way the reservation set can be served: each engine, and SQLite behind each cache model.
enum EngineKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, ini, postgresql, sqliteMemoryCache, sqliteDiskCache, sqlitePersistentCache, iniWithTimeout
    case http, httpGET, httpMemoryCache, lua

    var testDescription: String { rawValue }

    /// The kinds this machine can run (PostgreSQL needs Debian's `postgresql`).
    static var runnable: [EngineKind] {
        allCases.filter { $0 != .postgresql || PostgresTestServer.unavailableReason == nil }
    }

    var isSQL: Bool {
        switch self {
        case .sqlite, .postgresql, .sqliteMemoryCache, .sqliteDiskCache, .sqlitePersistentCache: true
        case .ini, .iniWithTimeout, .http, .httpGET, .httpMemoryCache, .lua: false
        }
    }

    var isHTTP: Bool { self == .http || self == .httpGET || self == .httpMemoryCache }
}

/// An engine loaded with `ReservationSet`, built through `DatabaseFactory` as conf.lua would.
final class EngineFixture: @unchecked Sendable {
    let database: any Database
    let directory: TemporaryDirectory
    let postgres: PostgresTestServer?
    let httpServer: StubHTTPServer?
    /// Runs SQL against the engine's store (SQL engines only).
    private let run: @Sendable (String) throws -> Void

    func execute(_ sql: String) async throws {
        let run = self.run
        try await onOwnThread { try run(sql) }
    }

    static func make(_ kind: EngineKind, query: DefinitionQuery = ReservationSet.query) async throws -> EngineFixture {
        let server = kind == .postgresql ? try await onOwnThread { try PostgresTestServer.start() } : nil
        if kind == .postgresql && server == nil {
            throw TestServerError(PostgresTestServer.unavailableReason ?? "PostgreSQL unavailable")
        }
        if let server { try await onOwnThread { try server.psql(ReservationSet.sql) } }
        let httpServer = kind.isHTTP ? try await StubHTTPServer.start(HTTPReservations.handler(macKey: "hw")) : nil
        let lua = kind == .lua ? try LuaReservations.engine() : nil
        return try EngineFixture(kind, query: query, postgres: server, httpServer: httpServer, lua: lua)
    }

    private init(
        _ kind: EngineKind, query: DefinitionQuery, postgres: PostgresTestServer?, httpServer: StubHTTPServer?,
        lua: (any Database)?
    ) throws {
        directory = try TemporaryDirectory()
        var config = DatabaseConfiguration()
        config.extraMaps = query.extraMaps
        config.extraSubnets = query.extraSubnets
        config.caseInsensitiveMACs = query.caseInsensitiveMACs
        switch kind {
        case .sqlite, .sqliteMemoryCache, .sqliteDiskCache, .sqlitePersistentCache:
            let path = directory.file("dhcp.sqlite3")
            try makeSQLiteFile(path, sql: ReservationSet.sql)
            config.engine = .named("SQLite")
            config.sqliteFile = path
            config.useCache = kind != .sqlite
            config.diskCache = kind == .sqliteDiskCache
            config.diskCachePersistent = kind == .sqlitePersistentCache ? directory.file("cache.sqlite3") : nil
            run = { sql in try Self.sqlite(path, sql) }
        case .ini, .iniWithTimeout:
            let path = directory.file("dhcp.ini")
            try ReservationSet.ini.write(toFile: path, atomically: true, encoding: .utf8)
            config.engine = .named("INI")
            config.iniFile = path
            config.lookupTimeout = kind == .iniWithTimeout ? 2 : nil
            run = { _ in throw TestServerError("INI has no SQL") }
        case .postgresql:
            guard let server = postgres else { throw TestServerError("no PostgreSQL server") }
            config.engine = .named("PostgreSQL")
            config.postgresql.host = "127.0.0.1"
            config.postgresql.port = server.port
            config.postgresql.username = PostgresTestServer.username
            config.postgresql.password = PostgresTestServer.password
            config.postgresql.database = PostgresTestServer.database
            config.postgresql.maximumConnections = 2
            config.lookupTimeout = 2
            run = { sql in try server.psql(sql) }
        case .http, .httpGET, .httpMemoryCache:
            guard let httpServer else { throw TestServerError("no HTTP stub server") }
            config.engine = .named("HTTP")
            config.http.uri = httpServer.uri
            config.http.macKey = "hw"
            config.http.post = kind != .httpGET
            config.useCache = kind == .httpMemoryCache
            config.lookupTimeout = 2
            run = { _ in throw TestServerError("HTTP has no SQL") }
        case .lua:
            guard let lua else { throw TestServerError("no Lua engine") }
            config.engine = .custom(lua)
            run = { _ in throw TestServerError("the Lua engine has no SQL") }
        }
        self.postgres = postgres
        self.httpServer = httpServer
        database = try DatabaseFactory.make(config, logger: quietLogger)
    }

    private static func sqlite(_ path: String, _ sql: String) throws { try DatabasesTests.execute(path, sql) }

    func cleanup() {
        postgres?.stop()
        if let httpServer { Task { await httpServer.stop() } }
        directory.cleanup()
    }
}

@Suite("Every engine answers the shared reservation set identically")
struct EngineSuiteTests {
    @Test(arguments: EngineKind.runnable)
    func answersTheReservationSet(_ kind: EngineKind) async throws {
        let fixture = try await EngineFixture.make(kind)
        defer { fixture.cleanup() }
        // Twice: the second round is answered by the caches where there are any.
        for _ in 0..<2 {
            for (mac, expected) in ReservationSet.expected.sorted(by: { $0.key < $1.key }) {
                #expect(try await fixture.database.lookupMAC(mac) == [expected], "\(mac)")
            }
            #expect(try await fixture.database.lookupMAC(ReservationSet.unknown).isEmpty)
        }
        try await fixture.database.reinitialise()
        #expect(try await fixture.database.lookupMAC(ReservationSet.alpha) == [ReservationSet.expected[ReservationSet.alpha]!])
    }

    @Test(arguments: EngineKind.runnable.filter(\.isSQL))
    func seesEditsWithoutRestartAndNeverCachesUnknowns(_ kind: EngineKind) async throws {
        let fixture = try await EngineFixture.make(kind)
        defer { fixture.cleanup() }
        let newcomer = MAC(0x0200_0000_0777)
        #expect(try await fixture.database.lookupMAC(newcomer).isEmpty)
        try await fixture.execute("INSERT INTO maps VALUES ('02:00:00:00:07:77', '198.51.100.77', NULL, 'floor 3', 0, NULL)")
        let found = try await fixture.database.lookupMAC(newcomer)
        #expect(found.map(\.ip) == [IPv4(198, 51, 100, 77)])
    }

    @Test(arguments: EngineKind.runnable.filter(\.isSQL))
    func malformedRowsNameTheMACColumnAndValue(_ kind: EngineKind) async throws {
        let fixture = try await EngineFixture.make(kind)
        defer { fixture.cleanup() }
        try await fixture.execute("""
            INSERT INTO maps VALUES ('02:00:00:00:0b:01', '198.51.100.300', NULL, 'floor 3', 0, NULL);
            INSERT INTO maps VALUES ('02:00:00:00:0b:02', '198.51.100.8', NULL, 'no such subnet', 4, NULL);
            INSERT INTO subnets VALUES ('broken', 0, 60, '192.0.2.1, gateway?', NULL, NULL, NULL, NULL, NULL, NULL);
            INSERT INTO maps VALUES ('02:00:00:00:0b:03', '198.51.100.9', NULL, 'broken', 0, NULL);
            """)
        let badIP = await #expect(throws: DatabaseError.self) { try await fixture.database.lookupMAC(MAC(0x0200_0000_0B01)) }
        #expect(badIP == .malformedRecord(
            mac: "02:00:00:00:0b:01", column: "maps.ip", value: "198.51.100.300", reason: "not an IPv4 address"))
        let badSubnet = await #expect(throws: DatabaseError.self) { try await fixture.database.lookupMAC(MAC(0x0200_0000_0B02)) }
        #expect(badSubnet?.description.contains("02:00:00:00:0b:02") == true)
        #expect(badSubnet?.description.contains("'no such subnet' and serial 4") == true)
        let badGateway = await #expect(throws: DatabaseError.self) { try await fixture.database.lookupMAC(MAC(0x0200_0000_0B03)) }
        #expect(badGateway?.description.contains("subnets.gateway") == true)
        #expect(badGateway?.description.contains("'gateway?' is not an IPv4 address") == true)
        // The good rows are unaffected.
        #expect(try await fixture.database.lookupMAC(ReservationSet.gamma).count == 1)
    }

    @Test(arguments: [EngineKind.sqlite] + EngineKind.runnable.filter { $0 == .postgresql })
    func caseInsensitiveMACsMatchUpperCaseRows(_ kind: EngineKind) async throws {
        let upper = "INSERT INTO maps VALUES ('02:00:00:00:CC:01', '198.51.100.50', NULL, 'floor 3', 0, NULL)"
        let sensitive = try await EngineFixture.make(kind)
        defer { sensitive.cleanup() }
        try await sensitive.execute(upper)
        #expect(try await sensitive.database.lookupMAC(MAC(0x0200_0000_CC01)).isEmpty)

        let insensitive = try await EngineFixture.make(
            kind, query: try DefinitionQuery(extraMaps: ["vlan"], extraSubnets: ["site"], caseInsensitiveMACs: true))
        defer { insensitive.cleanup() }
        try await insensitive.execute(upper)
        #expect(try await insensitive.database.lookupMAC(MAC(0x0200_0000_CC01)).map(\.ip) == [IPv4(198, 51, 100, 50)])
    }

    @Test(arguments: [EngineKind.sqlite] + EngineKind.runnable.filter { $0 == .postgresql })
    func extraMapsAndExtraSubnetsEachWorkAlone(_ kind: EngineKind) async throws {
        let mapsOnly = try await EngineFixture.make(kind, query: try DefinitionQuery(extraMaps: ["vlan"]))
        defer { mapsOnly.cleanup() }
        #expect(try await mapsOnly.database.lookupMAC(ReservationSet.alpha).first?.extra == ["maps.vlan": .integer(12)])
        #expect(try await mapsOnly.database.lookupMAC(ReservationSet.beta).first?.extra == nil)

        let subnetsOnly = try await EngineFixture.make(kind, query: try DefinitionQuery(extraSubnets: ["site"]))
        defer { subnetsOnly.cleanup() }
        #expect(try await subnetsOnly.database.lookupMAC(ReservationSet.alpha).first?.extra == ["subnets.site": .string("north")])
    }

    @Test(.enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
    func postgresqlGoingDownMidRunFailsLookupsAndRecoversByItself() async throws {
        let fixture = try await EngineFixture.make(.postgresql)
        defer { fixture.cleanup() }
        let server = try #require(fixture.postgres)
        #expect(try await fixture.database.lookupMAC(ReservationSet.alpha).count == 1)
        try await onOwnThread { try server.halt() }
        let started = ContinuousClock.now
        let error = await #expect(throws: DatabaseError.self) { try await fixture.database.lookupMAC(ReservationSet.alpha) }
        #expect(ContinuousClock.now - started < .seconds(4), "the failed lookup took too long: \(String(describing: error))")
        try await onOwnThread { try server.begin() }
        var recovered: [Definition] = []
        for _ in 0..<20 where recovered.isEmpty {
            recovered = (try? await fixture.database.lookupMAC(ReservationSet.alpha)) ?? []
            if recovered.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(recovered == [ReservationSet.expected[ReservationSet.alpha]!])
    }

    @Test(.enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
    func postgresqlDownAtStartFailsLookupsClearlyAndIsUsedOnceItComesUp() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        try await onOwnThread { try server.psql(ReservationSet.sql) }
        try await onOwnThread { try server.halt() }

        var config = DatabaseConfiguration(engine: .named("PostgreSQL"))
        config.extraMaps = ReservationSet.query.extraMaps
        config.extraSubnets = ReservationSet.query.extraSubnets
        config.postgresql.host = "127.0.0.1"
        config.postgresql.port = server.port
        config.postgresql.username = PostgresTestServer.username
        config.postgresql.password = PostgresTestServer.password
        config.postgresql.database = PostgresTestServer.database
        config.lookupTimeout = 3
        // Building the engine must not need the server.
        let database = try DatabaseFactory.make(config, logger: quietLogger)
        let started = ContinuousClock.now
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.alpha) }
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(error?.description.hasPrefix("PostgreSQL database") == true, "\(String(describing: error))")

        try await onOwnThread { try server.begin() }
        var recovered: [Definition] = []
        for _ in 0..<20 where recovered.isEmpty {
            recovered = (try? await database.lookupMAC(ReservationSet.alpha)) ?? []
            if recovered.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(recovered == [ReservationSet.expected[ReservationSet.alpha]!])
    }

    @Test func postgresqlSuiteRunsHere() throws {
        // Reported rather than silently skipped: the PostgreSQL cases above need Debian's server.
        if let reason = PostgresTestServer.unavailableReason {
            withKnownIssue("PostgreSQL cases skipped: \(reason)") { throw TestServerError(reason) }
        } else {
            #expect(EngineKind.runnable.contains(.postgresql))
        }
    }
}
