import DHCPModel
import DHCPWire
import Databases
import Foundation

/// What `DATABASE_ENGINE` selects.
public enum DatabaseEngineSetting: Sendable, Equatable {
    /// Unset or nil: the Null engine (a warning says so: in Lua unset and nil are the same).
    case none
    /// A named built-in engine: "SQLite", "INI", "PostgreSQL", "HTTP", "MySQL", "Oracle".
    case named(String)
    /// A Lua function returning `{ lookupMAC = ..., reinitialise = ... }`; build it with
    /// `ScriptRuntime.makeLuaDatabase(serializer:)`.
    case luaFunction
}

/// Every setting of the original with its default, plus the port's own
/// (`LUA_*_LIMIT`, `DATABASE_TIMEOUT`). Legacy names are folded into their modern ones.
public struct Settings: Sendable, Equatable {
    // General
    public var debug = false
    public var daemon = true
    public var systemName = "staticDHCPd"
    public var pidFile: String? = nil
    /// Required by the original; here nil means "keep the current identity" (a warning says so).
    public var uid: Int? = nil
    public var gid: Int? = nil

    // Server / network
    public var dhcpServerIP = IPv4.zero
    /// `"-"` = auto-detect from DHCP_SERVER_IP; nil = plain UDP broadcast replies.
    public var dhcpResponseInterface: String? = "-"
    public var dhcpResponseInterfaceQTags: [QTag]? = nil
    public var dhcpServerPort = 67
    public var dhcpClientPort = 68
    /// `PXE_PORT` is its legacy name.
    public var proxyPort: Int? = nil

    // Database
    public var databaseEngine = DatabaseEngineSetting.none
    public var caseInsensitiveMACs = false
    public var extraMaps: [String]? = nil
    public var extraSubnets: [String]? = nil
    public var usePool = true
    public var sqliteFile: String? = nil
    public var postgresqlDatabase: String? = nil
    public var postgresqlUsername: String? = nil
    public var postgresqlPassword: String? = nil
    public var postgresqlHost: String? = nil
    public var postgresqlPort = 5432
    public var postgresqlSSLMode = "disable"
    public var postgresqlMaximumConnections = 4
    public var oracleDatabase: String? = nil
    public var oracleUsername: String? = nil
    public var oraclePassword: String? = nil
    public var oracleMaximumConnections = 4
    public var mysqlDatabase: String? = nil
    public var mysqlUsername: String? = nil
    public var mysqlPassword: String? = nil
    public var mysqlHost: String? = nil
    public var mysqlPort = 3306
    public var mysqlMaximumConnections = 4
    public var iniFile: String? = nil
    /// `X_HTTPDB_*`: the HTTP engine's settings (also left in `other`, as every `X_*` global is).
    public var httpdb = DatabaseConfiguration.HTTP()
    /// Seconds a lookup may take before the request is dropped (ours).
    public var databaseTimeout = 5.0

    // Caching
    public var useCache = false
    public var cachingModel = "in-process"
    /// `CACHE_ON_DISK` is its legacy name.
    public var diskCache = false
    /// `PERSISTENT_CACHE` is its legacy name.
    public var diskCachePersistent: String? = nil
    public var memcachedHost: String? = nil
    public var memcachedPort = 11211
    public var memcachedAgeTime = 300

    // Server behaviour
    public var allowLocalDHCP = true
    public var allowDHCPRelays = false
    public var allowedDHCPRelays: [IPv4] = []
    public var enableRapidCommit = true
    public var authoritative = false
    public var nakRenewals = false
    public var unauthorizedClientTimeout = 60
    public var misbehavingClientTimeout = 150
    public var enableSuspend = true
    public var suspendThreshold = 10

    // Logging
    public var logFile: String? = nil
    public var logFileHistory: Int? = 7
    public var logFileSeverity = "WARN"
    public var logConsoleSeverity = "INFO"

    // Web
    public var webEnabled = true
    public var webIP = IPv4.zero
    public var webPort = 30880
    public var webLogHistory = 200
    public var webLogSeverity = "INFO"
    public var webLogMaxHeight: Int? = 400
    public var webDigestUsername: String? = nil
    public var webDigestPassword: String? = nil
    public var webDashboardSecure = false
    /// WEB_CONTENT_SECURITY_POLICY: the dashboard's Content-Security-Policy; nil keeps the strict
    /// default (docs/SCRIPTING.md, "Web pages of scripts").
    public var webContentSecurityPolicy: String?
    public var webReinitialiseConfirm = true
    public var webReinitialiseSecure = false
    public var webReinitialiseHidden = false
    public var webReinitialiseEnabled = true
    public var webDashboardOrderLog = 1000
    public var webHeaderTitle = true
    public var webHeaderCSS = true
    public var webHeaderFavicon = true

    // E-mail
    public var emailEnabled = false
    public var emailServer: String? = nil
    public var emailPort = 25
    public var emailTimeout = 4.0
    public var emailSource: String? = nil
    public var emailDestination: String? = nil
    public var emailSubject = "staticDHCPd encountered a problem"
    public var emailUser: String? = nil
    public var emailPassword: String? = nil

    // State (ours)
    /// Where `store` keeps its SQLite file; nil means `state/` beside conf.lua. A relative path is
    /// taken from conf.lua's directory. Resolve it with `resolvedStateDirectory(configFile:)`.
    public var stateDirectory: String? = nil
    /// `STORE_ENGINE`: where `store` keeps its data: "SQLite" (a file in STATE_DIRECTORY) or
    /// "PostgreSQL" (shared by every daemon on the `POSTGRESQL_*` database).
    public var storeEngine = "SQLite"

    /// The absolute state directory for conf.lua at `configFile`.
    public func resolvedStateDirectory(configFile: URL) -> String {
        let base = configFile.deletingLastPathComponent()
        guard let stateDirectory else { return base.appendingPathComponent("state").path }
        if stateDirectory.hasPrefix("/") { return stateDirectory }
        return base.appendingPathComponent(stateDirectory).standardizedFileURL.path
    }

    // Scheduling (ours)
    /// SCHED_FIFO priority (1-99) of the thread that answers DHCP; 0 = ordinary scheduling.
    public var realtimePriority = 0

    // Lua limits (ours)
    public var luaInstructionLimit = ScriptLimits.default.instructions
    public var luaTimeLimit = ScriptLimits.default.seconds
    public var luaMemoryLimit = ScriptLimits.default.memoryBytes

    /// Every other upper-case global (extension early-bind `X_*` settings, the script's own constants).
    public var other: [String: ScriptValue] = [:]

    /// Non-fatal remarks found while validating (legacy names, Null engine, no UID/GID...).
    public var warnings: [String] = []

    public init() {}

    /// The limits hooks and callbacks run under.
    public var limits: ScriptLimits {
        ScriptLimits(instructions: luaInstructionLimit, seconds: luaTimeLimit, memoryBytes: luaMemoryLimit)
    }

    /// The names of the built-in database engines `DATABASE_ENGINE` may name.
    public static let databaseEngineNames = ["SQLite", "INI", "PostgreSQL", "HTTP", "MySQL", "Oracle"]
    public static let storeEngineNames = ["SQLite", "PostgreSQL"]
    public static let severityNames = ["DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL"]
}
