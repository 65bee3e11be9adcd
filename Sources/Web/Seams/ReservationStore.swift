/// Reservation editing for the SQL engines, implemented by the executable on the same code as
/// `staticdhcpd db`. nil is passed to the web server when the engine is not SQL.
/// Errors meant for the operator (bad MAC, duplicate, unknown subnet) conform to `UserFacingError`;
/// any other error is logged and shown as a generic failure.
public protocol ReservationStore: Sendable {
    /// Reservations whose MAC, IP, hostname or subnet contains `query` (all when empty), at most `limit`.
    func searchReservations(matching query: String, limit: Int) async throws -> [Reservation]
    func reservation(mac: String) async throws -> Reservation?
    func addReservation(_ reservation: Reservation) async throws
    /// Replaces the reservation of `mac` (the MAC itself may change).
    func updateReservation(mac: String, with reservation: Reservation) async throws
    /// Returns false when there was no such reservation.
    func removeReservation(mac: String) async throws -> Bool

    /// Every row of `subnets`, ordered by (subnet, serial).
    func listSubnets() async throws -> [SubnetRecord]
    /// Adds a subnet; a duplicate (subnet, serial) is a `UserFacingError`.
    func addSubnet(_ subnet: SubnetRecord) async throws
    /// Replaces every setting of the subnet keyed by (subnet, serial); a missing one is a `UserFacingError`.
    func updateSubnet(_ subnet: SubnetRecord) async throws
    /// Returns false when there was no such subnet; one still used by reservations is a `UserFacingError`.
    func removeSubnet(subnet: String, serial: Int) async throws -> Bool
}

/// An error whose message is safe and useful to show to the operator.
public protocol UserFacingError: Error {
    var userMessage: String { get }
}

/// A plain user-facing error, for stores and for the web layer's own input checks.
public struct ReservationInputError: UserFacingError, Equatable {
    public let userMessage: String
    public init(_ message: String) { self.userMessage = message }
}

/// One row of `maps` (docs/DEPLOYMENT.md, "The reservation tables").
public struct Reservation: Sendable, Codable, Equatable {
    public var mac: String
    public var ip: String
    public var hostname: String?
    public var subnet: String
    public var serial: Int

    public init(mac: String, ip: String, hostname: String?, subnet: String, serial: Int) {
        self.mac = mac
        self.ip = ip
        self.hostname = hostname
        self.subnet = subnet
        self.serial = serial
    }
}

/// One row of `subnets` (docs/DEPLOYMENT.md, "The reservation tables"). Address lists (gateway, NTP and DNS servers) are
/// comma-separated dotted quads, as stored in the table.
public struct SubnetRecord: Sendable, Codable, Equatable {
    public var subnet: String
    public var serial: Int
    public var leaseTime: Int
    public var gateway: String?
    public var subnetMask: String?
    public var broadcastAddress: String?
    public var ntpServers: String?
    public var domainNameServers: String?
    public var domainName: String?

    public init(
        subnet: String, serial: Int, leaseTime: Int, gateway: String? = nil, subnetMask: String? = nil,
        broadcastAddress: String? = nil, ntpServers: String? = nil, domainNameServers: String? = nil,
        domainName: String? = nil
    ) {
        self.subnet = subnet
        self.serial = serial
        self.leaseTime = leaseTime
        self.gateway = gateway
        self.subnetMask = subnetMask
        self.broadcastAddress = broadcastAddress
        self.ntpServers = ntpServers
        self.domainNameServers = domainNameServers
        self.domainName = domainName
    }
}
