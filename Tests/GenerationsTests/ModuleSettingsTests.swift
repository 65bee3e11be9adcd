import DaemonLogging
import DHCPNetwork
import DHCPWire
import Engine
import Generations
import Scripting
import Testing

/// conf.lua's settings as each module's own configuration (the engine's, the sockets', the logs').
@Suite struct ModuleSettingsTests {
    @Test func theEngineGetsTheRuleSettings() throws {
        let configuration = try settings(
            "DHCP_SERVER_PORT = 1067", "AUTHORITATIVE = true", "NAK_RENEWALS = true", "ALLOW_LOCAL_DHCP = false",
            "ALLOW_DHCP_RELAYS = true", "ALLOWED_DHCP_RELAYS = {\"192.0.2.254\", \"198.51.100.1\"}",
            "ENABLE_RAPIDCOMMIT = false", "MISBEHAVING_CLIENT_TIMEOUT = 90", "SUSPEND_THRESHOLD = 7", "REALTIME_PRIORITY = 20"
        ).engineConfiguration
        #expect(configuration.serverIP == IPv4(192, 0, 2, 1))
        #expect(configuration.serverPort == 1067)
        #expect(configuration.authoritative && configuration.nakRenewals)
        #expect(!configuration.allowLocalDHCP && configuration.allowDHCPRelays)
        #expect(configuration.allowedDHCPRelays == [IPv4(192, 0, 2, 254), IPv4(198, 51, 100, 1)])
        #expect(!configuration.enableRapidCommit)
        #expect(configuration.abuse.misbehavingTimeout == 90)
        #expect(configuration.abuse.suspendThreshold == 7)
        #expect(configuration.realtimePriority == 20)
    }

    @Test func theSocketsGetTheNetworkSettings() throws {
        let network = try settings(
            "DHCP_SERVER_PORT = 1067", "DHCP_CLIENT_PORT = 1068", "PROXY_PORT = 4011", "ALLOW_DHCP_RELAYS = true",
            "DHCP_RESPONSE_INTERFACE = \"eth1\"", "DHCP_RESPONSE_INTERFACE_QTAGS = {{0, false, 100}}"
        ).networkConfiguration()
        #expect(network == NetworkConfig(
            serverIP: IPv4(192, 0, 2, 1), serverPort: 1067, clientPort: 1068, proxyPort: 4011,
            responseInterface: .named("eth1"), qtags: [try #require(QTag(pcp: 0, dei: false, vid: 100))], allowRelays: true))
        // Unset: the interface that owns DHCP_SERVER_IP answers at layer 2, and there is no proxy socket.
        let defaults = try settings().networkConfiguration()
        #expect(defaults.responseInterface == .serverInterface && defaults.proxyPort == nil)
        #expect(try settings("DHCP_RESPONSE_INTERFACE = false").networkConfiguration().responseInterface == .none)
    }

    @Test func onlySocketSettingsRebindTheSockets() throws {
        let before = try settings("PROXY_PORT = 4011")
        #expect(before.sameSockets(as: try settings("PROXY_PORT = 4011", "AUTHORITATIVE = true", "LOG_FILE = \"/tmp/x.log\"")))
        for change in ["PROXY_PORT = 4012", "DHCP_SERVER_PORT = 1067", "DHCP_RESPONSE_INTERFACE = \"eth1\""] {
            #expect(!before.sameSockets(as: try settings("PROXY_PORT = 4011", change)), "\(change)")
        }
        #expect(!before.sameSockets(as: try settings()), "PROXY_PORT removed")
    }

    @Test func logSettingsBecomeTheHubsConfiguration() throws {
        let quiet = try settings("LOG_CONSOLE_SEVERITY = \"ERROR\"", "LOG_FILE_SEVERITY = \"INFO\"", "LOG_FILE = \"dhcp.log\"",
                                 "WEB_ENABLED = true", "WEB_LOG_HISTORY = 50", "WEB_LOG_SEVERITY = \"WARN\"")
        let configuration = quiet.logConfiguration(debugFlag: false, console: true)
        #expect(configuration.consoleLevel == .error)
        #expect(configuration.fileLevel == .info)
        #expect(configuration.filePath == quiet.logFile && configuration.filePath?.hasSuffix("/dhcp.log") == true)
        #expect(configuration.fifoLevel == .warning && configuration.fifoCapacity == 50)
        #expect(!configuration.debugFormat && configuration.email == nil)
        // In the background the console gets nothing; --debug logs everything in the debug format.
        #expect(quiet.logConfiguration(debugFlag: false, console: false).consoleLevel == nil)
        let debug = quiet.logConfiguration(debugFlag: true, console: true)
        #expect(debug.consoleLevel == .debug && debug.fileLevel == .debug && debug.debugFormat)
        // Without the dashboard nothing is kept for it.
        #expect(try settings("WEB_ENABLED = false").logConfiguration(debugFlag: false, console: true).fifoCapacity == 0)
    }

    @Test func emailSettingsOnlyWhenEmailIsEnabled() throws {
        let mail = ["EMAIL_SERVER = \"mail.example\"", "EMAIL_SOURCE = \"dhcp@example\"",
                    "EMAIL_DESTINATION = \"ops@example, noc@example\"", "EMAIL_PORT = 2525"]
        #expect(try settings(mail[0], mail[1], mail[2]).emailSettings == nil)
        let enabled = try load(writeConf(mail + ["EMAIL_ENABLED = true"])).1
        let email = try #require(enabled.emailSettings)
        #expect(email.server == "mail.example" && email.port == 2525 && email.source == "dhcp@example")
        #expect(email.destinations == ["ops@example", "noc@example"])
        #expect(enabled.logConfiguration(debugFlag: false, console: false).email == email)
    }
}
