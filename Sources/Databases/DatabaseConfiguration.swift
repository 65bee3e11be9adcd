/// The database and caching settings of conf.lua, as plain values.
///
/// The executable fills this from the Lua settings; tests fill it directly. Nothing here is
/// validated until `DatabaseFactory.make` builds the engine, so every mistake is reported there,
/// with the setting's conf.lua name.
///
/// Equatable, so a reload keeps the running database exactly when nothing in here changed: a
/// setting added to this type takes part in the comparison without anyone listing it.
public struct DatabaseConfiguration: Sendable, Equatable {
    /// `DATABASE_ENGINE`: unset/nil, an engine name, or an engine built elsewhere (the Lua one).
    public enum Engine: Sendable, Equatable {
        case null
        case named(String)
        case custom(any Database)

        /// A custom engine is never equal to another, itself included: it comes from conf.lua's
        /// `DATABASE_ENGINE` function, which a reload runs again.
        public static func == (lhs: Engine, rhs: Engine) -> Bool {
            switch (lhs, rhs) {
            case (.null, .null): true
            case (.named(let left), .named(let right)): left == right
            default: false
            }
        }
    }

    /// `POSTGRESQL_*`.
    public struct PostgreSQL: Sendable, Equatable {
        public var database: String?
        public var username: String?
        public var password: String?
        /// nil: the local socket in `socketDirectory`.
        public var host: String?
        public var port: Int = 5432
        /// libpq's names: disable, allow, prefer, require, verify-ca, verify-full.
        public var sslMode: String = "disable"
        public var maximumConnections: Int = 4
        /// Where the server's Unix socket lives when `host` is nil (Debian's default).
        public var socketDirectory: String = "/var/run/postgresql"

        public init() {}
    }

    public var engine: Engine = .null
    /// `SQLITE_FILE`.
    public var sqliteFile: String?
    /// `INI_FILE`.
    public var iniFile: String?
    public var postgresql = PostgreSQL()
    /// `X_HTTPDB_*` (see `DatabaseConfiguration.HTTP`).
    public var http = HTTP()
    /// `CASE_INSENSITIVE_MACS`.
    public var caseInsensitiveMACs = false
    /// `EXTRA_MAPS`: extra `maps` columns, exposed as `extra["maps.<column>"]`.
    public var extraMaps: [String] = []
    /// `EXTRA_SUBNETS`: extra `subnets` columns, exposed as `extra["subnets.<column>"]`.
    public var extraSubnets: [String] = []
    /// `USE_CACHE`.
    public var useCache = false
    /// `CACHING_MODEL`: "in-process" or "memcached".
    public var cachingModel = "in-process"
    /// `DISK_CACHE`.
    public var diskCache = false
    /// `DISK_CACHE_PERSISTENT`.
    public var diskCachePersistent: String?
    /// `MEMCACHED_HOST`, `MEMCACHED_PORT`, `MEMCACHED_AGE_TIME`.
    public var memcachedHost: String?
    public var memcachedPort = 11211
    public var memcachedAgeTime = 300
    /// `DATABASE_TIMEOUT` in seconds: a backend lookup slower than this fails (nil or <= 0: none).
    public var lookupTimeout: Double? = 5

    public init(engine: Engine = .null) { self.engine = engine }

    /// The engine name for logs: "Null", "SQLite", ..., or the custom engine's own name.
    public var engineDescription: String {
        switch engine {
        case .null: "Null"
        case .named(let name): name
        case .custom(let database): database.engineName
        }
    }
}
