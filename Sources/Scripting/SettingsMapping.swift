import Databases
import Foundation

/// conf.lua's database settings as the Databases module's own configuration: Databases does not
/// know the scripting layer's types, and the executable and `staticdhcpd db` build their
/// databases from the same mapping.
extension Settings {
    /// The database settings; `custom` is the engine built from a Lua `DATABASE_ENGINE` function.
    public func databaseConfiguration(custom: (any Database)? = nil) -> DatabaseConfiguration {
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
    public func sameDatabase(as other: Settings) -> Bool {
        databaseEngine != .luaFunction && databaseConfiguration() == other.databaseConfiguration()
    }
}

extension Settings {
    /// Relative file paths in conf.lua mean "beside conf.lua", whatever the working directory
    /// (a daemon changes it to /), as `staticdhcpd db` already reads SQLITE_FILE.
    public func resolvingPaths(relativeTo configFile: URL) -> Settings {
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
    public func controlPIDFile(configFile: URL) -> String {
        pidFile ?? URL(fileURLWithPath: resolvedStateDirectory(configFile: configFile))
            .appendingPathComponent("staticdhcpd.pid").path
    }
}
