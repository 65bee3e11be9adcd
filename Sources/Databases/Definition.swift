import DHCPWire

/// Site metadata attached to a definition (`definition.extra`): the JSON-like values a database
/// row, an INI file or a script can carry.
public enum ExtraValue: Sendable, Equatable, Hashable {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    case list([ExtraValue])
    case table([String: ExtraValue])
}

/// The static "lease" record for a MAC: what the server hands to that client.
///
/// `(subnet, serial)` keys the shared subnet settings; caches assume every definition with the
/// same pair carries the same gateways, mask, broadcast, DNS, NTP, domain and lease time.
public struct Definition: Sendable, Equatable {
    public var ip: IPv4
    public var leaseTime: UInt32
    public var subnet: String
    public var serial: Int
    public var hostname: String?
    public var gateways: [IPv4]
    public var subnetMask: IPv4?
    public var broadcastAddress: IPv4?
    public var domainName: String?
    /// At most three; longer lists are cut when the definition is made.
    public var domainNameServers: [IPv4]
    /// At most three; longer lists are cut when the definition is made.
    public var ntpServers: [IPv4]
    public var extra: [String: ExtraValue]?

    public init(
        ip: IPv4, leaseTime: UInt32, subnet: String, serial: Int,
        hostname: String? = nil, gateways: [IPv4] = [], subnetMask: IPv4? = nil,
        broadcastAddress: IPv4? = nil, domainName: String? = nil,
        domainNameServers: [IPv4] = [], ntpServers: [IPv4] = [], extra: [String: ExtraValue]? = nil
    ) {
        self.ip = ip
        self.leaseTime = leaseTime
        self.subnet = subnet
        self.serial = serial
        self.hostname = hostname
        self.gateways = gateways
        self.subnetMask = subnetMask
        self.broadcastAddress = broadcastAddress
        self.domainName = domainName
        self.domainNameServers = Array(domainNameServers.prefix(3))
        self.ntpServers = Array(ntpServers.prefix(3))
        self.extra = extra
    }
}

/// A source of definitions, selected by `DATABASE_ENGINE`.
public protocol Database: Sendable {
    /// The engine's name as conf.lua spells it (`"SQLite"`, `"INI"`, ...), for logs and the dashboard.
    var engineName: String { get }
    /// Every definition for `mac`: empty when unknown, several when the site serves the MAC in
    /// several subnets (the engine then asks `filterRetrievedDefinitions` to choose).
    /// Throws when the backend fails; the engine drops that one request.
    func lookupMAC(_ mac: MAC) async throws -> [Definition]
    /// Makes fresh data available: flush caches, reread files, reconnect.
    func reinitialise() async throws
}

/// The engine for sites that answer only from `handleUnknownMAC`: it never matches.
public struct NullDatabase: Database {
    public init() {}
    public var engineName: String { "Null" }
    public func lookupMAC(_ mac: MAC) async throws -> [Definition] { [] }
    public func reinitialise() async throws {}
}
