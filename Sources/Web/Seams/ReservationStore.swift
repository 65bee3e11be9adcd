import DHCPWire

/// Reservation editing for the SQL engines, implemented by the executable on the same code as
/// `staticdhcpd db`. nil is passed to the web server when the engine is not SQL. It takes and gives
/// DHCPModel's `Reservation` and `SubnetRecord`: the web layer parses and checks what it is sent into
/// them first (`ReservationValidation`, `SubnetValidation`).
/// Errors meant for the operator (bad MAC, duplicate, unknown subnet) conform to `UserFacingError`;
/// any other error is logged and shown as a generic failure.
public protocol ReservationStore: Sendable {
    /// Reservations whose MAC, IP, hostname or subnet contains `query` (all when empty), at most `limit`.
    func searchReservations(matching query: String, limit: Int) async throws -> [Reservation]
    func reservation(mac: MAC) async throws -> Reservation?
    func addReservation(_ reservation: Reservation) async throws
    /// Replaces the reservation of `mac` (the MAC itself may change).
    func updateReservation(mac: MAC, with reservation: Reservation) async throws
    /// Returns false when there was no such reservation.
    func removeReservation(mac: MAC) async throws -> Bool

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
