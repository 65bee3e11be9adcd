import Databases
import Testing

@Suite struct FactoryTests {
    private func error(_ config: DatabaseConfiguration) -> String {
        do {
            _ = try DatabaseFactory.make(config, logger: quietLogger)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: ["MySQL", "Oracle"])
    func enginesWithoutADriverSaySoAndListTheAvailableOnes(_ name: String) {
        let message = error(DatabaseConfiguration(engine: .named(name)))
        #expect(message.contains("no driver is available for \(name)"))
        #expect(message.contains("'SQLite', 'INI', 'PostgreSQL'"))
    }

    @Test func unknownEngineNamesAreListedWithACaseHint() {
        let message = error(DatabaseConfiguration(engine: .named("sqlite")))
        #expect(message.contains("DATABASE_ENGINE 'sqlite' is not an engine"))
        #expect(message.contains("did you mean 'SQLite'"))
        #expect(error(DatabaseConfiguration(engine: .named("Redis"))).contains("available engines are 'SQLite'"))
    }

    @Test func missingRequiredSettingsAreNamed() {
        #expect(error(DatabaseConfiguration(engine: .named("SQLite"))).contains("needs SQLITE_FILE"))
        #expect(error(DatabaseConfiguration(engine: .named("INI"))).contains("needs INI_FILE"))
        var postgres = DatabaseConfiguration(engine: .named("PostgreSQL"))
        #expect(error(postgres).contains("needs POSTGRESQL_DATABASE"))
        postgres.postgresql.database = "dhcp"
        #expect(error(postgres).contains("needs POSTGRESQL_USERNAME"))
        postgres.postgresql.username = "dhcp"
        postgres.postgresql.host = "127.0.0.1"
        postgres.postgresql.sslMode = "sometimes"
        #expect(error(postgres).contains("POSTGRESQL_SSLMODE 'sometimes'"))
        postgres.postgresql.sslMode = "require"
        postgres.postgresql.maximumConnections = 0
        #expect(error(postgres).contains("POSTGRESQL_MAXIMUM_CONNECTIONS must be at least 1"))
    }

    @Test func extraColumnsMustBePlainNames() {
        var config = DatabaseConfiguration(engine: .named("SQLite"))
        config.sqliteFile = "/nonexistent/dhcp.sqlite3"
        config.extraMaps = ["vlan; DROP TABLE maps"]
        #expect(error(config).contains("EXTRA_MAPS entry 'vlan; DROP TABLE maps' is not a plain column name"))
        config.extraMaps = []
        config.extraSubnets = ["1site"]
        #expect(error(config).contains("EXTRA_SUBNETS entry '1site'"))
    }

    @Test func unknownCachingModelIsAnError() {
        var config = DatabaseConfiguration(engine: .named("SQLite"))
        config.sqliteFile = "/nonexistent/dhcp.sqlite3"
        config.useCache = true
        config.cachingModel = "redis"
        #expect(error(config).contains("CACHING_MODEL 'redis' is not a caching model"))
    }

    @Test func nullEngineNeverMatchesAndCustomEnginesPassThrough() async throws {
        let null = try DatabaseFactory.make(DatabaseConfiguration(), logger: quietLogger)
        #expect(null.engineName == "Null")
        #expect(try await null.lookupMAC(ReservationSet.alpha).isEmpty)
        let scripted = ScriptedDatabase([ReservationSet.alpha: [ReservationSet.expected[ReservationSet.alpha]!]])
        let custom = try DatabaseFactory.make(DatabaseConfiguration(engine: .custom(scripted)), logger: quietLogger)
        #expect(custom.engineName == "Scripted")
        #expect(try await custom.lookupMAC(ReservationSet.alpha).count == 1)
    }

    @Test func queryTextFollowsTheSettings() throws {
        let plain = try DefinitionQuery()
        #expect(plain.sql(.sqlite).contains("WHERE m.mac = ? LIMIT 1"))
        #expect(plain.sql(.postgresql).contains("WHERE m.mac = $1 LIMIT 1"))
        let insensitive = try DefinitionQuery(extraMaps: ["vlan"], caseInsensitiveMACs: true)
        #expect(insensitive.sql(.postgresql).contains("lower(m.mac) = $1"))
        #expect(insensitive.sql(.sqlite).contains("m.mac = ? COLLATE NOCASE"))
        #expect(insensitive.sql(.sqlite).contains("m.serial, m.vlan FROM"))
    }
}
