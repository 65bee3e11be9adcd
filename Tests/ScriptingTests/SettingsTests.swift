import DHCPWire
import Foundation
import Scripting
import Testing

@Suite struct SettingsTests {
    @Test func defaultsApply() throws {
        let (runtime, log) = try makeRuntime("")
        let settings = runtime.settings
        #expect(settings.dhcpServerIP == IPv4(192, 0, 2, 1))
        #expect(settings.databaseEngine == .named("SQLite"))
        #expect(settings.sqliteFile == "dhcp.sqlite3")
        #expect(settings.dhcpServerPort == 67 && settings.dhcpClientPort == 68)
        #expect(settings.webPort == 30880 && settings.enableRapidCommit && !settings.authoritative)
        #expect(settings.dhcpResponseInterface == "-")
        #expect(settings.logFileHistory == 7 && settings.webLogMaxHeight == 400)
        #expect(log.contains("UID/GID"))
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        #expect {
            _ = try makeRuntime("""
            DHCP_SERVER_PORT = "67"
            WEB_PORT = 70000
            DHCP_SERVR_PORT = 67
            ALLOWED_DHCP_RELAYS = {"192.0.2.300"}
            DEBUG = 1
            MY_OWN_CONSTANT = 5
            """, settings: "DATABASE_ENGINE = \"SQLite\"\n")
        } throws: { error in
            guard let error = error as? ScriptError, error.kind == .settings else { return false }
            let text = error.description
            return text.contains("DHCP_SERVER_IP: required")
                && text.contains("SQLITE_FILE: required")
                && text.contains("DHCP_SERVER_PORT: expected an integer in 1...65535, found string \"67\"")
                && text.contains("WEB_PORT: expected an integer in 1...65535, found 70000")
                && text.contains("DHCP_SERVR_PORT: unknown setting; did you mean DHCP_SERVER_PORT?")
                && text.contains("ALLOWED_DHCP_RELAYS: expected a list of IPv4 addresses, found \"192.0.2.300\"")
                && text.contains("DEBUG: expected a boolean")
                && !text.contains("MY_OWN_CONSTANT")
        }
    }

    @Test func realtimePriorityIsOffByDefaultAndBounded() throws {
        #expect(try makeRuntime("").0.settings.realtimePriority == 0)
        #expect(try makeRuntime("REALTIME_PRIORITY = 10").0.settings.realtimePriority == 10)
        for (value, found) in [("100", "100"), ("-1", "-1"), ("\"high\"", "string \"high\"")] {
            #expect {
                _ = try makeRuntime("REALTIME_PRIORITY = \(value)")
            } throws: { error in
                "\(error)".contains("REALTIME_PRIORITY: expected an integer in 0...99, found \(found)")
            }
        }
    }

    @Test func theContentSecurityPolicyIsOneLineOfPrintableASCII() throws {
        #expect(try makeRuntime("").0.settings.webContentSecurityPolicy == nil)
        let loose = "default-src 'self'; script-src 'self' 'unsafe-inline'"
        #expect(try makeRuntime("WEB_CONTENT_SECURITY_POLICY = \"\(loose)\"").0.settings.webContentSecurityPolicy == loose)
        for value in [#""default-src 'self'\r\nX-Evil: 1""#, #""  ""#, "42"] {
            #expect {
                _ = try makeRuntime("WEB_CONTENT_SECURITY_POLICY = \(value)")
            } throws: { error in
                "\(error)".contains("WEB_CONTENT_SECURITY_POLICY: expected")
            }
        }
    }

    @Test func legacyAliasesAreHonoured() throws {
        let (runtime, _) = try makeRuntime("PXE_PORT = 4011\nCACHE_ON_DISK = true\nPERSISTENT_CACHE = \"/tmp/x\"\nX_HTTPDB_URI = \"http://127.0.0.1/\"\n")
        #expect(runtime.settings.proxyPort == 4011)
        #expect(runtime.settings.diskCache)
        #expect(runtime.settings.diskCachePersistent == "/tmp/x")
        #expect(runtime.settings.other["X_HTTPDB_URI"] == .string("http://127.0.0.1/"))
    }

    @Test func zeroServerAddressAndBadEngineAreRejected() throws {
        #expect {
            _ = try makeRuntime("", settings: "DHCP_SERVER_IP = \"0.0.0.0\"\nDATABASE_ENGINE = \"sqlite\"\n")
        } throws: { error in
            "\(error)".contains("DHCP_SERVER_IP: expected a concrete IPv4 address") && "\(error)".contains("DATABASE_ENGINE: expected one of")
        }
    }

    @Test func engineMayBeNilOrAFunction() throws {
        let (nullRuntime, log) = try makeRuntime("", settings: "DHCP_SERVER_IP = \"192.0.2.1\"\n")
        #expect(nullRuntime.settings.databaseEngine == .none)
        #expect(log.contains("Null database"))
        let (luaRuntime, _) = try makeRuntime("", settings: """
        DHCP_SERVER_IP = "192.0.2.1"
        DATABASE_ENGINE = function()
          return { lookupMAC = function(mac) if mac == "aa:bb:cc:dd:ee:ff" then return Definition("192.0.2.7", 60, "s", 0) end end }
        end
        """)
        #expect(luaRuntime.settings.databaseEngine == .luaFunction)
    }

    @Test func hookNamesMustHoldFunctions() throws {
        let file = try writeConfig(baseSettings + "filterPacket = true\nloadDHCPPacket = 'x'\n")
        let report = ScriptRuntime.checkConfig(configFile: file)
        #expect(!report.isValid)
        #expect(report.errors.contains { $0.contains("filterPacket: expected a function") })
        #expect(report.errors.contains { $0.contains("loadDHCPPacket: expected a function") })
        let good = ScriptRuntime.checkConfig(configFile: try writeConfig(baseSettings + "function init() error('must not run') end\n"))
        #expect(good.isValid)
    }

    @Test func locateConfigFollowsTheSearchOrder() throws {
        let file = try writeConfig(baseSettings)
        let directory = file.deletingLastPathComponent().path
        #expect(try ScriptRuntime.locateConfig(explicit: directory, environment: [:], cwd: "/") == file.standardizedFileURL)
        #expect(try ScriptRuntime.locateConfig(explicit: file.path, environment: [:], cwd: "/") == file.standardizedFileURL)
        #expect(try ScriptRuntime.locateConfig(explicit: nil, environment: ["STATICDHCPD_CONF_PATH": directory + "/anything.py"], cwd: "/")
            == file.standardizedFileURL)
        #expect {
            _ = try ScriptRuntime.locateConfig(explicit: nil, environment: [:], cwd: "/nonexistent-dir")
        } throws: { error in
            "\(error)".contains("/nonexistent-dir/conf/conf.lua") && "\(error)".contains("/etc/staticDHCPd/conf.lua")
        }
    }

    @Test func defaultConfLuaIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let report = ScriptRuntime.checkConfig(configFile: root.appendingPathComponent("conf.lua"))
        #expect(report.errors == [])
        #expect(report.settings?.dhcpServerIP == IPv4(192, 0, 2, 1))
    }
}
