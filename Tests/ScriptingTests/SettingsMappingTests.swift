import Databases
import Foundation
import Scripting
import Testing

@Suite struct SettingsMappingTests {
    private func sqlite(_ file: String) -> Settings {
        var settings = Settings()
        settings.databaseEngine = .named("SQLite")
        settings.sqliteFile = file
        return settings
    }

    @Test func databaseSettingsBecomeTheDatabaseConfiguration() {
        var settings = sqlite("/var/lib/dhcp.sqlite3")
        settings.postgresqlPort = 5433
        settings.databaseTimeout = 2.5
        let configuration = settings.databaseConfiguration()
        #expect(configuration.engine == .named("SQLite"))
        #expect(configuration.sqliteFile == "/var/lib/dhcp.sqlite3")
        #expect(configuration.postgresql.port == 5433)
        #expect(configuration.lookupTimeout == 2.5)
        #expect(Settings().databaseConfiguration().engine == .null)
    }

    @Test func aReloadKeepsTheDatabaseOnlyWhenItsSettingsAreTheSame() {
        let settings = sqlite("/var/lib/dhcp.sqlite3")
        #expect(settings.sameDatabase(as: settings))
        #expect(!settings.sameDatabase(as: sqlite("/var/lib/other.sqlite3")))
        var lua = Settings()
        lua.databaseEngine = .luaFunction
        #expect(!lua.sameDatabase(as: lua))
    }

    @Test func relativePathsAreBesideConfLua() {
        var settings = sqlite("db/dhcp.sqlite3")
        settings.logFile = "/var/log/dhcp.log"
        let resolved = settings.resolvingPaths(relativeTo: URL(fileURLWithPath: "/etc/staticdhcpd/conf.lua"))
        #expect(resolved.sqliteFile == "/etc/staticdhcpd/db/dhcp.sqlite3")
        #expect(resolved.logFile == "/var/log/dhcp.log")
        #expect(resolved.pidFile == nil)
    }

    @Test func theControlPIDFileIsPIDFileElseInTheStateDirectory() {
        let conf = URL(fileURLWithPath: "/etc/staticdhcpd/conf.lua")
        var settings = Settings()
        #expect(settings.controlPIDFile(configFile: conf) == "/etc/staticdhcpd/state/staticdhcpd.pid")
        settings.pidFile = "/run/dhcp.pid"
        #expect(settings.controlPIDFile(configFile: conf) == "/run/dhcp.pid")
    }
}
