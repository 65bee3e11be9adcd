import DHCPModel
import DHCPWire

extension Settings {
    /// Builds settings from conf.lua's upper-case globals. Throws one `.settings` error listing every
    /// problem (wrong type, missing required value, likely typo, bad value), each naming the key.
    static func validate(_ globals: [String: ScriptValue]) throws(ScriptError) -> Settings {
        var r = SettingsReader(values: globals)
        var s = Settings()
        r.alias("CACHE_ON_DISK", to: "DISK_CACHE")
        r.alias("PERSISTENT_CACHE", to: "DISK_CACHE_PERSISTENT")
        r.alias("PXE_PORT", to: "PROXY_PORT")

        s.debug = r.bool("DEBUG", s.debug)
        s.daemon = r.bool("DAEMON", s.daemon)
        s.systemName = r.string("SYSTEM_NAME", s.systemName)
        s.pidFile = r.optionalString("PID_FILE")
        s.uid = r.optionalInt("UID", range: 0...Int(Int32.max))
        s.gid = r.optionalInt("GID", range: 0...Int(Int32.max))
        if !r.isSet("UID") || !r.isSet("GID") {
            r.warn("UID/GID not set: the server keeps the identity it was started with")
        }

        if let address = r.optionalIPv4("DHCP_SERVER_IP", allowZero: false) {
            s.dhcpServerIP = address
        } else if !r.isSet("DHCP_SERVER_IP") {
            r.fail("DHCP_SERVER_IP: required, but not set (expected an IPv4 address like \"192.0.2.1\")")
        }
        // conf.lua cannot tell nil from unset, so `false` selects plain UDP replies (Python's None).
        if case .bool(false) = r.raw("DHCP_RESPONSE_INTERFACE") {
            r.register("DHCP_RESPONSE_INTERFACE")
            s.dhcpResponseInterface = nil
        } else {
            s.dhcpResponseInterface = r.optionalString("DHCP_RESPONSE_INTERFACE") ?? "-"
        }
        s.dhcpResponseInterfaceQTags = readQTags(&r)
        s.dhcpServerPort = r.port("DHCP_SERVER_PORT", s.dhcpServerPort)
        s.dhcpClientPort = r.port("DHCP_CLIENT_PORT", s.dhcpClientPort)
        s.proxyPort = r.optionalInt("PROXY_PORT", range: 1...65535)

        readDatabase(&r, &s)
        readHTTPDB(&r, &s)
        readCaching(&r, &s)

        s.allowLocalDHCP = r.bool("ALLOW_LOCAL_DHCP", s.allowLocalDHCP)
        s.allowDHCPRelays = r.bool("ALLOW_DHCP_RELAYS", s.allowDHCPRelays)
        s.allowedDHCPRelays = r.ipv4List("ALLOWED_DHCP_RELAYS")
        s.enableRapidCommit = r.bool("ENABLE_RAPIDCOMMIT", s.enableRapidCommit)
        s.authoritative = r.bool("AUTHORITATIVE", s.authoritative)
        s.nakRenewals = r.bool("NAK_RENEWALS", s.nakRenewals)
        s.unauthorizedClientTimeout = r.int("UNAUTHORIZED_CLIENT_TIMEOUT", s.unauthorizedClientTimeout, range: 0...86400 * 365)
        s.misbehavingClientTimeout = r.int("MISBEHAVING_CLIENT_TIMEOUT", s.misbehavingClientTimeout, range: 0...86400 * 365)
        s.enableSuspend = r.bool("ENABLE_SUSPEND", s.enableSuspend)
        s.suspendThreshold = r.int("SUSPEND_THRESHOLD", s.suspendThreshold, range: 0...Int(Int32.max))

        if let directory = r.optionalString("STATE_DIRECTORY") {
            if directory.isEmpty || directory.utf8.contains(0) {
                r.problem("STATE_DIRECTORY", expected: "a directory path (absolute, or relative to conf.lua's directory)", found: "\"\(directory)\"")
            } else {
                s.stateDirectory = directory
            }
        }

        s.logFile = r.optionalString("LOG_FILE")
        if case .bool(false) = r.raw("LOG_FILE_HISTORY") {
            r.register("LOG_FILE_HISTORY")
            s.logFileHistory = nil
        } else {
            s.logFileHistory = r.isSet("LOG_FILE_HISTORY") ? r.optionalInt("LOG_FILE_HISTORY", range: 0...100_000) : 7
        }
        s.logFileSeverity = r.choice("LOG_FILE_SEVERITY", s.logFileSeverity, Settings.severityNames)
        s.logConsoleSeverity = r.choice("LOG_CONSOLE_SEVERITY", s.logConsoleSeverity, Settings.severityNames)

        readWeb(&r, &s)
        readEmail(&r, &s)

        s.realtimePriority = r.int("REALTIME_PRIORITY", s.realtimePriority, range: 0...99)
        s.luaInstructionLimit = r.int("LUA_INSTRUCTION_LIMIT", s.luaInstructionLimit, range: 0...Int(Int64.max / 2))
        if let seconds = r.optionalNumber("LUA_TIME_LIMIT", minimum: 0) { s.luaTimeLimit = seconds }
        s.luaMemoryLimit = r.int("LUA_MEMORY_LIMIT", s.luaMemoryLimit, range: 0...Int(Int64.max / 2))
        if s.luaMemoryLimit != 0, s.luaMemoryLimit < 1 << 20 {
            r.problem("LUA_MEMORY_LIMIT", expected: "0 (no cap) or at least 1048576 bytes", found: "\(s.luaMemoryLimit)")
        }

        s.other = r.checkUnknownNames()
        // Extensions and scripts may read any X_* global, including those the engines use.
        for (name, value) in r.values where name.hasPrefix("X_") && value != .nil { s.other[name] = value }
        guard r.problems.isEmpty else { throw ScriptError(.settings, r.problems.sorted()) }
        s.warnings = r.warnings
        return s
    }

    private static func readQTags(_ r: inout SettingsReader) -> [QTag]? {
        let key = "DHCP_RESPONSE_INTERFACE_QTAGS"
        let expected = "a list of {pcp 0-7, dei boolean, vid 1-4094}, outermost first"
        switch r.raw(key) {
        case .nil:
            r.register(key)
            return nil
        case .table(let array, let fields) where fields.isEmpty:
            r.register(key)
            var tags: [QTag] = []
            for (index, item) in array.enumerated() {
                guard case .table(let parts, let named) = item, named.isEmpty, parts.count == 3,
                      case .integer(let pcp) = parts[0], case .bool(let dei) = parts[1], case .integer(let vid) = parts[2],
                      let tag = QTag(pcp: pcp, dei: dei, vid: vid)
                else {
                    r.problem(key, expected: expected, found: "\(item.shortDescription) at position \(index + 1)")
                    continue
                }
                tags.append(tag)
            }
            return tags
        case let other:
            r.register(key)
            r.problem(key, expected: expected, found: other.shortDescription)
            return nil
        }
    }

    private static func readDatabase(_ r: inout SettingsReader, _ s: inout Settings) {
        switch r.raw("DATABASE_ENGINE") {
        case .nil:
            r.register("DATABASE_ENGINE")
            s.databaseEngine = .none
            r.warn("DATABASE_ENGINE is not set: using the Null database (only handleUnknownMAC answers)")
        case .opaque("function"):
            r.register("DATABASE_ENGINE")
            s.databaseEngine = .luaFunction
        default:
            let name = r.choice("DATABASE_ENGINE", "SQLite", Settings.databaseEngineNames)
            s.databaseEngine = .named(name)
        }
        s.caseInsensitiveMACs = r.bool("CASE_INSENSITIVE_MACS", s.caseInsensitiveMACs)
        s.extraMaps = r.stringList("EXTRA_MAPS")
        s.extraSubnets = r.stringList("EXTRA_SUBNETS")
        s.usePool = r.bool("USE_POOL", s.usePool)
        let engine: String? = if case .named(let name) = s.databaseEngine { name } else { nil }
        let sqliteReason = "when DATABASE_ENGINE is \"SQLite\""
        s.sqliteFile = engine == "SQLite" ? r.requiredString("SQLITE_FILE", because: sqliteReason) : r.optionalString("SQLITE_FILE")
        s.storeEngine = r.choice("STORE_ENGINE", s.storeEngine, Settings.storeEngineNames)
        let pgReason = engine == "PostgreSQL" ? "when DATABASE_ENGINE is \"PostgreSQL\"" : "when STORE_ENGINE is \"PostgreSQL\""
        let isPG = engine == "PostgreSQL" || s.storeEngine == "PostgreSQL"
        s.postgresqlDatabase = isPG ? r.requiredString("POSTGRESQL_DATABASE", because: pgReason) : r.optionalString("POSTGRESQL_DATABASE")
        s.postgresqlUsername = isPG ? r.requiredString("POSTGRESQL_USERNAME", because: pgReason) : r.optionalString("POSTGRESQL_USERNAME")
        s.postgresqlPassword = isPG ? r.requiredString("POSTGRESQL_PASSWORD", because: pgReason) : r.optionalString("POSTGRESQL_PASSWORD")
        s.postgresqlHost = r.optionalString("POSTGRESQL_HOST")
        s.postgresqlPort = r.port("POSTGRESQL_PORT", s.postgresqlPort)
        s.postgresqlSSLMode = r.choice("POSTGRESQL_SSLMODE", s.postgresqlSSLMode,
                                       ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
        s.postgresqlMaximumConnections = r.int("POSTGRESQL_MAXIMUM_CONNECTIONS", 4, range: 1...1000)
        s.oracleDatabase = r.optionalString("ORACLE_DATABASE")
        s.oracleUsername = r.optionalString("ORACLE_USERNAME")
        s.oraclePassword = r.optionalString("ORACLE_PASSWORD")
        s.oracleMaximumConnections = r.int("ORACLE_MAXIMUM_CONNECTIONS", 4, range: 1...1000)
        s.mysqlDatabase = r.optionalString("MYSQL_DATABASE")
        s.mysqlUsername = r.optionalString("MYSQL_USERNAME")
        s.mysqlPassword = r.optionalString("MYSQL_PASSWORD")
        s.mysqlHost = r.optionalString("MYSQL_HOST")
        s.mysqlPort = r.port("MYSQL_PORT", s.mysqlPort)
        s.mysqlMaximumConnections = r.int("MYSQL_MAXIMUM_CONNECTIONS", 4, range: 1...1000)
        s.iniFile = engine == "INI" ? r.requiredString("INI_FILE", because: "when DATABASE_ENGINE is \"INI\"") : r.optionalString("INI_FILE")
        if let timeout = r.optionalNumber("DATABASE_TIMEOUT", minimum: 0.001) { s.databaseTimeout = timeout }
    }

    private static func readCaching(_ r: inout SettingsReader, _ s: inout Settings) {
        s.useCache = r.bool("USE_CACHE", s.useCache)
        s.cachingModel = r.choice("CACHING_MODEL", s.cachingModel, ["in-process", "memcached"])
        s.diskCache = r.bool("DISK_CACHE", s.diskCache)
        s.diskCachePersistent = r.optionalString("DISK_CACHE_PERSISTENT")
        s.memcachedHost = r.optionalString("MEMCACHED_HOST")
        s.memcachedPort = r.port("MEMCACHED_PORT", s.memcachedPort)
        s.memcachedAgeTime = r.int("MEMCACHED_AGE_TIME", s.memcachedAgeTime, range: 0...Int(Int32.max))
        if !s.useCache, s.diskCache || s.diskCachePersistent != nil {
            r.warn("DISK_CACHE/DISK_CACHE_PERSISTENT are set but USE_CACHE is false: no cache is used")
        }
    }

    private static func readWeb(_ r: inout SettingsReader, _ s: inout Settings) {
        s.webEnabled = r.bool("WEB_ENABLED", s.webEnabled)
        s.webIP = r.optionalIPv4("WEB_IP") ?? s.webIP
        s.webPort = r.port("WEB_PORT", s.webPort)
        s.webLogHistory = r.int("WEB_LOG_HISTORY", s.webLogHistory, range: 0...1_000_000)
        s.webLogSeverity = r.choice("WEB_LOG_SEVERITY", s.webLogSeverity, Settings.severityNames)
        if case .bool(false) = r.raw("WEB_LOG_MAX_HEIGHT") {
            r.register("WEB_LOG_MAX_HEIGHT")
            s.webLogMaxHeight = nil
        } else {
            s.webLogMaxHeight = r.isSet("WEB_LOG_MAX_HEIGHT") ? r.optionalInt("WEB_LOG_MAX_HEIGHT", range: 1...100_000) : 400
        }
        s.webDigestUsername = r.optionalString("WEB_DIGEST_USERNAME")
        s.webDigestPassword = r.optionalString("WEB_DIGEST_PASSWORD")
        s.webDashboardSecure = r.bool("WEB_DASHBOARD_SECURE", s.webDashboardSecure)
        if let policy = r.optionalString("WEB_CONTENT_SECURITY_POLICY") {
            // A header value: one line of printable ASCII, or it could split the response.
            if policy.trimmingCharacters(in: .whitespaces).isEmpty
                || !policy.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) }) {
                r.problem("WEB_CONTENT_SECURITY_POLICY", expected: "a non-empty policy of printable ASCII on one line",
                          found: "\"\(policy.prefix(60))\"")
            } else {
                s.webContentSecurityPolicy = policy
            }
        }
        s.webReinitialiseConfirm = r.bool("WEB_REINITIALISE_CONFIRM", s.webReinitialiseConfirm)
        s.webReinitialiseSecure = r.bool("WEB_REINITIALISE_SECURE", s.webReinitialiseSecure)
        s.webReinitialiseHidden = r.bool("WEB_REINITIALISE_HIDDEN", s.webReinitialiseHidden)
        s.webReinitialiseEnabled = r.bool("WEB_REINITIALISE_ENABLED", s.webReinitialiseEnabled)
        s.webDashboardOrderLog = r.int("WEB_DASHBOARD_ORDER_LOG", s.webDashboardOrderLog)
        s.webHeaderTitle = r.bool("WEB_HEADER_TITLE", s.webHeaderTitle)
        s.webHeaderCSS = r.bool("WEB_HEADER_CSS", s.webHeaderCSS)
        s.webHeaderFavicon = r.bool("WEB_HEADER_FAVICON", s.webHeaderFavicon)
    }

    private static func readEmail(_ r: inout SettingsReader, _ s: inout Settings) {
        s.emailEnabled = r.bool("EMAIL_ENABLED", s.emailEnabled)
        let reason = "when EMAIL_ENABLED is true"
        let on = s.emailEnabled
        s.emailServer = on ? r.requiredString("EMAIL_SERVER", because: reason) : r.optionalString("EMAIL_SERVER")
        s.emailPort = r.port("EMAIL_PORT", s.emailPort)
        s.emailTimeout = r.optionalNumber("EMAIL_TIMEOUT", minimum: 0) ?? s.emailTimeout
        s.emailSource = on ? r.requiredString("EMAIL_SOURCE", because: reason) : r.optionalString("EMAIL_SOURCE")
        s.emailDestination = on ? r.requiredString("EMAIL_DESTINATION", because: reason) : r.optionalString("EMAIL_DESTINATION")
        s.emailSubject = r.string("EMAIL_SUBJECT", s.emailSubject)
        s.emailUser = r.optionalString("EMAIL_USER")
        s.emailPassword = (on && s.emailUser != nil)
            ? r.requiredString("EMAIL_PASSWORD", because: "when EMAIL_USER is set") : r.optionalString("EMAIL_PASSWORD")
    }
}
