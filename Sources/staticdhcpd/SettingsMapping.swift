import DaemonLogging
import Databases
import DHCPNetwork
import DHCPWire
import Engine
import Foundation
import Logging
import Scripting

/// Turns conf.lua's validated settings into each module's own configuration, so no module
/// below the executable depends on the scripting layer's types.
extension Settings {
    var engineConfiguration: EngineConfiguration {
        EngineConfiguration(
            serverIP: dhcpServerIP,
            serverPort: UInt16(dhcpServerPort),
            proxyPort: proxyPort.map { UInt16($0) },
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

    func networkConfiguration() -> NetworkConfig {
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

    /// The database settings; `custom` is the engine built from a Lua `DATABASE_ENGINE` function.
    func databaseConfiguration(custom: (any Database)? = nil) -> DatabaseConfiguration {
        var configuration = DatabaseConfiguration()
        switch databaseEngine {
        case .none: configuration.engine = .null
        case .named(let name): configuration.engine = .named(name)
        case .luaFunction: configuration.engine = custom.map { .custom($0) } ?? .null
        }
        configuration.sqliteFile = sqliteFile
        configuration.iniFile = iniFile
        configuration.postgresql.database = postgresqlDatabase
        configuration.postgresql.username = postgresqlUsername
        configuration.postgresql.password = postgresqlPassword
        configuration.postgresql.host = postgresqlHost
        configuration.postgresql.port = postgresqlPort
        configuration.postgresql.sslMode = postgresqlSSLMode
        configuration.postgresql.maximumConnections = postgresqlMaximumConnections
        configuration.http = httpdb
        configuration.caseInsensitiveMACs = caseInsensitiveMACs
        configuration.extraMaps = extraMaps ?? []
        configuration.extraSubnets = extraSubnets ?? []
        configuration.useCache = useCache
        configuration.cachingModel = cachingModel
        configuration.diskCache = diskCache
        configuration.diskCachePersistent = diskCachePersistent
        configuration.memcachedHost = memcachedHost
        configuration.memcachedPort = memcachedPort
        configuration.memcachedAgeTime = memcachedAgeTime
        configuration.lookupTimeout = databaseTimeout
        return configuration
    }

    /// Whether two settings describe the same database, so a reload can keep the open one.
    func sameDatabase(as other: Settings) -> Bool {
        databaseEngine != .luaFunction && databaseConfiguration() == other.databaseConfiguration()
    }

    /// Whether the sockets must be rebound for these settings: compared as the network layer's
    /// whole configuration, so no setting can be left out of the decision.
    func sameSockets(as other: Settings) -> Bool {
        networkConfiguration() == other.networkConfiguration()
    }

    func logConfiguration(debugFlag: Bool, console: Bool) -> LogHub.Configuration {
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
    var emailSettings: EmailSettings? {
        guard emailEnabled, let server = emailServer, let source = emailSource, let destination = emailDestination else { return nil }
        return EmailSettings(
            server: server, port: emailPort, timeout: emailTimeout, source: source,
            destinations: EmailSettings.destinations(from: destination), subject: emailSubject,
            user: emailUser, password: emailPassword
        )
    }
}

extension Settings {
    /// Relative file paths in conf.lua mean "beside conf.lua", whatever the working directory
    /// (a daemon changes it to /), as `staticdhcpd db` already reads SQLITE_FILE.
    func resolvingPaths(relativeTo configFile: URL) -> Settings {
        let directory = configFile.deletingLastPathComponent()
        func resolve(_ path: String?) -> String? {
            guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
            return directory.appendingPathComponent(path).standardizedFileURL.path
        }
        var settings = self
        settings.sqliteFile = resolve(sqliteFile)
        settings.iniFile = resolve(iniFile)
        settings.logFile = resolve(logFile)
        settings.pidFile = resolve(pidFile)
        settings.diskCachePersistent = resolve(diskCachePersistent)
        return settings
    }

    /// Where the running daemon's pid is kept for `staticdhcpd reload` (and the outcome of its
    /// last reload, beside it with `.reload` appended): PID_FILE, else `staticdhcpd.pid` in
    /// STATE_DIRECTORY, so that `reload` finds the daemon of any conf.lua.
    func controlPIDFile(configFile: URL) -> String {
        pidFile ?? URL(fileURLWithPath: resolvedStateDirectory(configFile: configFile))
            .appendingPathComponent("staticdhcpd.pid").path
    }
}
