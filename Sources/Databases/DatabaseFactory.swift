import Logging

/// Builds the configured engine, wrapped in the lookup timeout and the cache chain.
///
/// Layering, outermost first: cache chain (when `USE_CACHE`) -> timeout -> backend. A cache hit
/// therefore never pays for the timeout machinery, and a timed-out lookup can still be answered
/// from a stale cache entry. A backend that keeps its own deadline (`ResumingLookup`) is given
/// DATABASE_TIMEOUT instead of the wrapper.
public enum DatabaseFactory {
    /// Engine names that `DATABASE_ENGINE` accepts (besides nil and a Lua function).
    public static let availableEngines = ["SQLite", "INI", "PostgreSQL", "HTTP"]
    /// Engines the original supports but for which no Swift driver is available here.
    public static let unavailableEngines = ["MySQL", "Oracle"]

    public static func make(_ config: DatabaseConfiguration, logger: Logger) throws -> any Database {
        let backend = try makeBackend(config, logger: logger)
        if case .null = config.engine {
            logger.warning("DATABASE_ENGINE is unset or nil: the Null database never matches; only handleUnknownMAC can answer clients")
            return backend
        }
        var database: any Database = backend
        if let seconds = config.lookupTimeout, seconds > 0, !(backend is any ResumingLookup) {
            database = TimeoutDatabase(database, seconds: seconds)
        }
        if config.useCache {
            if let chain = try CacheChainFactory.make(config, logger: logger) {
                database = CachingDatabase(backend: database, cache: chain, logger: logger)
            }
        } else if config.diskCache || config.diskCachePersistent != nil {
            logger.warning("DISK_CACHE / DISK_CACHE_PERSISTENT are set but USE_CACHE is false: no cache is used")
        }
        return database
    }

    /// The bare engine, without cache or timeout.
    public static func makeBackend(_ config: DatabaseConfiguration, logger: Logger) throws -> any Database {
        switch config.engine {
        case .null:
            return NullDatabase()
        case .custom(let database):
            return database
        case .named(let name):
            switch name {
            case "SQLite":
                let path = try required(config.sqliteFile, "SQLITE_FILE", for: name)
                return try SQLiteDatabase(path: path, query: try query(config), logger: logger)
            case "INI":
                let path = try required(config.iniFile, "INI_FILE", for: name)
                return try INIDatabase(path: path, logger: logger)
            case "PostgreSQL":
                let settings = config.postgresql
                _ = try required(settings.database, "POSTGRESQL_DATABASE", for: name)
                _ = try required(settings.username, "POSTGRESQL_USERNAME", for: name)
                return try PostgreSQLDatabase(
                    settings: settings, query: try query(config), timeout: config.lookupTimeout, logger: logger)
            case "HTTP":
                return try HTTPDatabase(settings: config.http, logger: logger)
            case _ where unavailableEngines.contains(name):
                throw DatabaseError.configuration(
                    "DATABASE_ENGINE '\(name)': no driver is available for \(name) in this build; available engines are "
                        + availableList)
            default:
                let hint = availableEngines.first { $0.lowercased() == name.lowercased() }
                    .map { " (engine names are case-sensitive: did you mean '\($0)'?)" } ?? ""
                throw DatabaseError.configuration(
                    "DATABASE_ENGINE '\(name)' is not an engine\(hint); available engines are " + availableList)
            }
        }
    }

    static var availableList: String {
        availableEngines.map { "'\($0)'" }.joined(separator: ", ")
            + ", nil (the Null database) and a Lua function returning an engine"
    }

    static func query(_ config: DatabaseConfiguration) throws -> DefinitionQuery {
        try DefinitionQuery(
            extraMaps: config.extraMaps, extraSubnets: config.extraSubnets,
            caseInsensitiveMACs: config.caseInsensitiveMACs)
    }

    private static func required(_ value: String?, _ setting: String, for engine: String) throws -> String {
        guard let value, !value.isEmpty else {
            throw DatabaseError.configuration("DATABASE_ENGINE '\(engine)' needs \(setting), which is not set")
        }
        return value
    }
}
