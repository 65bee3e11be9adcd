import Logging

/// The settings the web server needs: every WEB_* setting of conf.lua plus SYSTEM_NAME
/// and DEBUG, and a few operational limits this port adds. The executable fills it from conf.lua.
public struct WebConfiguration: Sendable {
    public var systemName: String = "staticDHCPd"
    public var debug: Bool = false

    public var enabled: Bool = true
    public var ip: String = "0.0.0.0"
    public var port: Int = 30880
    /// Records kept for the dashboard log; 0 disables the events element.
    public var logHistory: Int = 200
    /// Minimum level captured for the dashboard log (the source applies it; kept here for display).
    public var logSeverity: Logger.Level = .info
    /// Maximum pixel height of the events box; nil means unlimited.
    public var logMaxHeight: Int? = 400
    public var digestUsername: String?
    public var digestPassword: String?
    public var dashboardSecure: Bool = false
    /// The Content-Security-Policy of every answer (WEB_CONTENT_SECURITY_POLICY). The default
    /// allows nothing inline and nothing from elsewhere: the dashboard's own script and style
    /// are files, and a script's fragment cannot run code it smuggled in.
    public var contentSecurityPolicy: String = WebConfiguration.strictContentSecurityPolicy
    public static let strictContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    public var reinitialiseConfirm: Bool = true
    public var reinitialiseSecure: Bool = false
    public var reinitialiseHidden: Bool = false
    public var reinitialiseEnabled: Bool = true
    public var dashboardOrderLog: Int = 1000
    public var headerTitle: Bool = true
    public var headerCSS: Bool = true
    public var headerFavicon: Bool = true

    // Limits this port adds (not WEB_* settings of the original).
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int = 64 * 1024
    /// How long a script callback may run before the request gives up on it.
    public var callbackTimeout: Duration = .seconds(5)
    /// How long a client may take to send its request body.
    public var bodyReadTimeout: Duration = .seconds(10)
    /// Seconds an idle connection is kept open (slow or stalled clients are dropped after this).
    public var idleTimeoutSeconds: Int64 = 30
    /// Lifetime of a digest nonce; within it the nonce is reused with an increasing nonce count.
    public var digestNonceLifetime: Duration = .seconds(300)
    /// Ordering of the built-in dashboard elements (the events log uses `dashboardOrderLog`).
    public var dashboardOrderStatus: Int = -300
    public var dashboardOrderActivity: Int = -200
    public var dashboardOrderClients: Int = -100
    /// Daemon version shown in the footer.
    public var version: String = "dev"

    public init() {}

    /// Digest authentication is active only when both credentials are set (README, "Web dashboard and API").
    public var authenticationEnabled: Bool {
        guard let user = digestUsername, let password = digestPassword else { return false }
        return !user.isEmpty && !password.isEmpty
    }

    /// Whether WEB_IP lets other hosts connect (anything but a loopback address).
    public var listensBeyondLoopback: Bool { !Loopback.contains(ip) }

    /// The WARNING the daemon logs at start and at each reload while other hosts can reach a
    /// dashboard without credentials; nil otherwise.
    public var exposureWarning: String? {
        guard listensBeyondLoopback, !authenticationEnabled else { return nil }
        return "The web dashboard listens on \(ip):\(port) without WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD: any host"
            + " that reaches it can read its pages, and changes from other hosts (reload, reservation, subnet and lease edits)"
            + " are refused until both are set. Set them, or WEB_IP = \"127.0.0.1\" to keep the dashboard on this machine"
    }

    /// The digest realm: SYSTEM_NAME with `"` replaced by `'`, as the original.
    public var realm: String {
        systemName.replacingOccurrences(of: "\"", with: "'")
    }
}

/// Path of the built-in reinitialise method, kept from the original so bookmarks keep working.
public let reinitialisePath = "/ca/uguu/puukusoft/staticDHCPd/reinitialise"
