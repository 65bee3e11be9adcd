import Foundation

/// One address of a dynamism pool and who holds it, read from the store's layout
/// (docs/SCRIPTING.md, "dynamism"): what `staticdhcpd leases` prints and the leases page and
/// `/api/leases` show. Encoded as is, `expires` follows the encoder's date strategy: the web API
/// sends ISO 8601, `staticdhcpd leases --json` whole seconds since the epoch.
public struct PoolLease: Sendable, Equatable, Codable {
    public var pool: String
    public var mac: String
    public var ip: String
    /// "offered", "bound" or "quarantined" (declined: `mac` is then the client that declined it).
    public var state: String
    /// When the offer or the lease runs out, or the quarantine ends.
    public var expires: Date
    /// The name the client sent (option 12), when dynamism recorded one: records written before it
    /// did, and quarantines, have none.
    public var hostname: String?

    public init(pool: String, mac: String, ip: String, state: String, expires: Date, hostname: String? = nil) {
        self.pool = pool
        self.mac = mac
        self.ip = ip
        self.state = state
        self.expires = expires
        self.hostname = hostname
    }
}
