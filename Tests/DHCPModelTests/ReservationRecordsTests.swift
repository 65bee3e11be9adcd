import DHCPModel
import DHCPWire
import Foundation
import Testing

/// The records' JSON is what `/api/reservations` and `/api/subnets` send: addresses as dotted
/// quads, address lists as one comma-separated string, absent values left out.
struct ReservationRecordsTests {
    private func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func aReservationIsSentAsText() throws {
        let reservation = Reservation(mac: MAC(0xaabb_ccdd_ee01), ip: IPv4(192, 0, 2, 10), subnet: "192.0.2.0/24", hostname: "printer")
        #expect(try json(reservation)
            == #"{"hostname":"printer","ip":"192.0.2.10","mac":"aa:bb:cc:dd:ee:01","serial":0,"subnet":"192.0.2.0/24"}"#)
        var anonymous = reservation
        anonymous.hostname = nil
        #expect(try json(anonymous) == #"{"ip":"192.0.2.10","mac":"aa:bb:cc:dd:ee:01","serial":0,"subnet":"192.0.2.0/24"}"#)
        #expect(try JSONDecoder().decode(Reservation.self, from: Data(try json(reservation).utf8)) == reservation)
    }

    @Test func aSubnetsListsAreCommaSeparatedAndEmptyOnesLeftOut() throws {
        let subnet = SubnetRecord(
            subnet: "192.0.2.0/24", serial: 1, leaseTime: 3600, gateways: [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)],
            subnetMask: IPv4(255, 255, 255, 0), domainName: "lab.example", domainNameServers: [IPv4(192, 0, 2, 53)])
        #expect(try json(subnet) == #"{"domainName":"lab.example","domainNameServers":"192.0.2.53","gateway":"192.0.2.1,192.0.2.2","#
            + #""leaseTime":3600,"serial":1,"subnet":"192.0.2.0/24","subnetMask":"255.255.255.0"}"#)
        #expect(try JSONDecoder().decode(SubnetRecord.self, from: Data(try json(subnet).utf8)) == subnet)
    }

    @Test func badAddressesDoNotDecode() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Reservation.self, from: Data(#"{"mac":"aa:bb","ip":"192.0.2.1","subnet":"s","serial":0}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SubnetRecord.self, from: Data(#"{"subnet":"s","serial":0,"leaseTime":60,"gateway":"192.0.2.1,nope"}"#.utf8))
        }
    }
}
