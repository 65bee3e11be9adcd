import DHCPWire
import Databases
import Testing

/// A reload keeps the running database exactly when its configuration compares equal, so every
/// setting must take part in the comparison (docs/ARCHITECTURE.md, reload).
@Suite struct ConfigurationEqualityTests {
    private func configuration() -> DatabaseConfiguration {
        var configuration = DatabaseConfiguration(engine: .named("PostgreSQL"))
        configuration.postgresql.host = "192.0.2.5"
        configuration.extraMaps = ["vlan"]
        configuration.useCache = true
        return configuration
    }

    @Test(arguments: [
        { (c: inout DatabaseConfiguration) in c.engine = .named("SQLite") },
        { c in c.sqliteFile = "other.sqlite3" },
        { c in c.postgresql.password = "changed" },
        { c in c.postgresql.maximumConnections = 8 },
        { c in c.http.uri = "http://192.0.2.9/" },
        { c in c.caseInsensitiveMACs = true },
        { c in c.extraSubnets = ["site"] },
        { c in c.diskCachePersistent = "/var/cache/x" },
        { c in c.memcachedAgeTime = 60 },
        { c in c.lookupTimeout = 2 },
    ] as [@Sendable (inout DatabaseConfiguration) -> Void])
    func changingAnySettingMakesItDifferent(_ change: @Sendable (inout DatabaseConfiguration) -> Void) {
        var changed = configuration()
        change(&changed)
        #expect(changed != configuration())
        #expect(configuration() == configuration())
    }

    @Test func aCustomEngineIsNeverTheSameOneAgain() {
        let custom = DatabaseConfiguration(engine: .custom(NullDatabase()))
        #expect(custom != custom)
        #expect(DatabaseConfiguration(engine: .null) == DatabaseConfiguration(engine: .null))
    }
}
