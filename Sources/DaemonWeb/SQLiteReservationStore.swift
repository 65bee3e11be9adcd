import Databases
import DHCPWire
import Web

/// Reservation editing in the browser, on the same code as `staticdhcpd db`: Web has parsed and
/// checked what it passes, so this only delegates, showing the tool's refusals to the operator.
struct SQLiteReservationStore: ReservationStore {
    let reservations: Reservations

    private func userFacing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw ReservationInputError(error.description)
        }
    }

    func searchReservations(matching query: String, limit: Int) async throws -> [Reservation] {
        try userFacing { try reservations.search(query, limit: limit) }
    }

    func reservation(mac: MAC) async throws -> Reservation? {
        try userFacing { try reservations.reservation(mac: mac) }
    }

    func addReservation(_ reservation: Reservation) async throws {
        try userFacing { try reservations.add(reservation) }
    }

    /// One transaction: a refused edit leaves the old reservation as it was.
    func updateReservation(mac: MAC, with reservation: Reservation) async throws {
        try userFacing { try reservations.replace(mac: mac, with: reservation) }
    }

    func removeReservation(mac: MAC) async throws -> Bool {
        try userFacing { try reservations.removeIfPresent(mac: mac) }
    }

    func listSubnets() async throws -> [SubnetRecord] {
        try userFacing { try reservations.listSubnets() }
    }

    func addSubnet(_ subnet: SubnetRecord) async throws {
        try userFacing { try reservations.addSubnet(subnet) }
    }

    func updateSubnet(_ subnet: SubnetRecord) async throws {
        try userFacing { try reservations.updateSubnet(subnet) }
    }

    func removeSubnet(subnet: String, serial: Int) async throws -> Bool {
        try userFacing { try reservations.removeSubnetIfPresent(subnet, serial: serial) }
    }
}
