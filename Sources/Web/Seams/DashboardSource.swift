import Foundation

/// What the dashboard shows, provided by the executable (engine statistics, log FIFO, reload).
/// Every call must return quickly: the dashboard calls several of them per page.
public protocol DashboardSource: Sendable {
    func status() async -> StatusSnapshot
    /// Packets per second by method over the last hour.
    func activity() async -> ActivitySeries
    /// The latest event per MAC, newest first.
    func recentClients() async -> [RecentClient]
    /// The web log FIFO (`WEB_LOG_HISTORY` records at `WEB_LOG_SEVERITY` or above), newest first.
    func logRecords() async -> [LogRecord]
    func metrics() async -> MetricsSnapshot
    /// Reinitialises the server (as SIGHUP does) and reports how it went.
    func reload() async -> ReloadOutcome
}

public struct StatusSnapshot: Sendable, Codable, Equatable {
    public var startTime: Date
    /// Increments on every successful reload.
    public var configGeneration: Int
    public var lastReload: ReloadOutcome?
    /// Sockets served, e.g. "udp 192.0.2.1:67".
    public var sockets: [String]
    public var databaseEngine: String
    /// Fraction of lookups answered by the cache, nil when there is no cache.
    public var cacheHitRate: Double?
    /// Where `store` lives ("SQLite ..." or "PostgreSQL staticdhcpd_store on ...").
    public var store: String?
    /// The daemons sharing the store (this one included); empty with a store of its own.
    public var peers: [Peer]

    public init(
        startTime: Date, configGeneration: Int, lastReload: ReloadOutcome?, sockets: [String],
        databaseEngine: String, cacheHitRate: Double?, store: String? = nil, peers: [Peer] = []
    ) {
        self.startTime = startTime
        self.configGeneration = configGeneration
        self.lastReload = lastReload
        self.sockets = sockets
        self.databaseEngine = databaseEngine
        self.cacheHitRate = cacheHitRate
        self.store = store
        self.peers = peers
    }

    /// A daemon sharing the store, as last heard from.
    public struct Peer: Sendable, Codable, Equatable {
        public var name: String
        public var host: String
        public var serverIP: String
        public var version: String
        public var configGeneration: Int
        public var lastHeard: Date
        /// This daemon itself.
        public var isSelf: Bool

        public init(name: String, host: String, serverIP: String, version: String, configGeneration: Int, lastHeard: Date, isSelf: Bool) {
            self.name = name
            self.host = host
            self.serverIP = serverIP
            self.version = version
            self.configGeneration = configGeneration
            self.lastHeard = lastHeard
            self.isSelf = isSelf
        }
    }
}

/// Packets per second by method, one point per `intervalSeconds`, oldest first, the last point ending at `end`.
public struct ActivitySeries: Sendable, Codable, Equatable {
    public var intervalSeconds: Int
    public var end: Date
    public var series: [String: [Double]]

    public init(intervalSeconds: Int, end: Date, series: [String: [Double]]) {
        self.intervalSeconds = intervalSeconds
        self.end = end
        self.series = series
    }
}

public struct RecentClient: Sendable, Codable, Equatable {
    public var mac: String
    public var method: String
    public var ip: String?
    public var subnet: String?
    public var serial: Int?
    public var port: Int
    public var time: Date
    /// The reply sent ("OFFER", "ACK", "NAK") or why there was none ("ignored: for another server").
    public var outcome: String?

    public init(mac: String, method: String, ip: String?, subnet: String?, serial: Int?, port: Int, time: Date, outcome: String? = nil) {
        self.outcome = outcome
        self.mac = mac
        self.method = method
        self.ip = ip
        self.subnet = subnet
        self.serial = serial
        self.port = port
        self.time = time
    }
}

/// Running totals of a timed operation (a Prometheus summary without quantiles).
public struct DurationTotal: Sendable, Codable, Equatable {
    public var count: Int
    public var seconds: Double

    public init(count: Int = 0, seconds: Double = 0) {
        self.count = count
        self.seconds = seconds
    }
}

/// Counters since start, exposed at /metrics and /api/statistics.
public struct MetricsSnapshot: Sendable, Codable, Equatable {
    /// Packets by method (e.g. "DISCOVER", "REQUEST:RENEW", "non-DHCP") and then by outcome
    /// (e.g. "replied", "ignored", "dropped", "error").
    public var packets: [String: [String: Int]]
    /// Replies sent, by reply type (e.g. "OFFER", "ACK", "NAK").
    public var repliesSent: [String: Int]
    /// Packets dropped before handling, by reason (e.g. "blocklisted", "relay-not-allowed", "malformed").
    public var drops: [String: Int]
    public var hookErrors: Int
    /// Datagrams answered without a truncated trailing option (lenient decoding).
    public var truncatedOptions: Int = 0
    /// Requests dropped unanswered because they waited too long in a socket's receive buffer
    /// (docs/ARCHITECTURE.md, "Overload"), since the sockets were bound.
    public var staleRequests: Int = 0
    public var hookTime: DurationTotal
    public var databaseLookups: DurationTotal
    public var databaseErrors: Int
    public var cacheHits: Int
    /// REQUESTs answered from the lookup behind their OFFER, without asking the database.
    public var rememberedOffers: Int
    public var reloads: Int
    public var reloadFailures: Int
    /// MACs the abuse guard forgot early because its bounded tables were full.
    public var abuseEvictions = 0
    /// What the scripts' metrics handlers gave (`callbacks.metricsAddHandler`), e.g. pool gauges.
    public var scripted: [ScriptedMetric] = []

    public init(
        packets: [String: [String: Int]] = [:], repliesSent: [String: Int] = [:], drops: [String: Int] = [:],
        hookErrors: Int = 0, hookTime: DurationTotal = .init(), databaseLookups: DurationTotal = .init(),
        databaseErrors: Int = 0, cacheHits: Int = 0, rememberedOffers: Int = 0, reloads: Int = 0, reloadFailures: Int = 0
    ) {
        self.packets = packets
        self.repliesSent = repliesSent
        self.drops = drops
        self.hookErrors = hookErrors
        self.hookTime = hookTime
        self.databaseLookups = databaseLookups
        self.databaseErrors = databaseErrors
        self.cacheHits = cacheHits
        self.rememberedOffers = rememberedOffers
        self.reloads = reloads
        self.reloadFailures = reloadFailures
    }
}
