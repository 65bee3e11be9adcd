import DaemonLogging
import DHCPNetwork
import Engine
import Scripting

/// Turns conf.lua's validated settings into each module's own configuration, so neither the
/// engine, the sockets nor the log sinks depend on the scripting layer's types.
extension Settings {
    public var engineConfiguration: EngineConfiguration {
        EngineConfiguration(
            serverIP: dhcpServerIP,
            serverPort: UInt16(dhcpServerPort),
            authoritative: authoritative,
            nakRenewals: nakRenewals,
            allowLocalDHCP: allowLocalDHCP,
            allowDHCPRelays: allowDHCPRelays,
            allowedDHCPRelays: Set(allowedDHCPRelays),
            enableRapidCommit: enableRapidCommit,
            abuse: AbuseGuard.Configuration(
                unauthorizedTimeout: unauthorizedClientTimeout,
                misbehavingTimeout: misbehavingClientTimeout,
                enableSuspend: enableSuspend,
                suspendThreshold: suspendThreshold
            ),
            realtimePriority: realtimePriority
        )
    }

    public func networkConfiguration() -> NetworkConfig {
        NetworkConfig(
            serverIP: dhcpServerIP,
            serverPort: UInt16(dhcpServerPort),
            clientPort: UInt16(dhcpClientPort),
            proxyPort: proxyPort.map { UInt16($0) },
            responseInterface: ResponseInterface(setting: dhcpResponseInterface),
            qtags: dhcpResponseInterfaceQTags ?? [],
            allowRelays: allowDHCPRelays
        )
    }

    /// Whether the sockets must be rebound for these settings: compared as the network layer's
    /// whole configuration, so no setting can be left out of the decision.
    public func sameSockets(as other: Settings) -> Bool {
        networkConfiguration() == other.networkConfiguration()
    }

    public func logConfiguration(debugFlag: Bool, console: Bool) -> LogHub.Configuration {
        var configuration = LogHub.Configuration()
        let forceDebug = debugFlag
        configuration.consoleLevel = console ? (forceDebug ? .debug : Severity.parse(logConsoleSeverity) ?? .info) : nil
        configuration.fileLevel = forceDebug ? .debug : Severity.parse(logFileSeverity) ?? .warning
        configuration.filePath = logFile
        configuration.fileHistory = logFileHistory ?? 0
        configuration.fifoLevel = Severity.parse(webLogSeverity) ?? .info
        configuration.fifoCapacity = webEnabled ? webLogHistory : 0
        configuration.debugFormat = debug || forceDebug
        configuration.email = emailSettings
        return configuration
    }

    /// EMAIL_*: nil unless EMAIL_ENABLED (validation already required server, source and destination).
    public var emailSettings: EmailSettings? {
        guard emailEnabled, let server = emailServer, let source = emailSource, let destination = emailDestination else { return nil }
        return EmailSettings(
            server: server, port: emailPort, timeout: emailTimeout, source: source,
            destinations: EmailSettings.destinations(from: destination), subject: emailSubject,
            user: emailUser, password: emailPassword
        )
    }
}
