import DHCPWire
import Databases
import Foundation
import GRDB
import Testing

@Suite struct ReservationsTests {
    private let lab = SubnetRecord(
        subnet: "192.0.2.0/24", serial: 0, leaseTime: 3600, gateways: [IPv4(192, 0, 2, 1)],
        subnetMask: IPv4(255, 255, 255, 0), domainNameServers: [IPv4(192, 0, 2, 53)])

    private func tool() throws -> (Reservations, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let reservations = try Reservations(path: directory.file("dhcp.sqlite3"))
        try reservations.initSchema()
        return (reservations, directory)
    }

    private func rejection(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    /// The web UI's calls: records already parsed, and removals that answer whether there was anything to remove.
    @Test func parsedRecordsAddReplaceAndRemoveIfPresent() throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        let alpha = Reservation(mac: ReservationSet.alpha, ip: IPv4(192, 0, 2, 10), subnet: "192.0.2.0/24", hostname: "alpha")
        try reservations.add(alpha)
        #expect(try reservations.reservation(mac: ReservationSet.alpha) == alpha)
        #expect(rejection { try reservations.add(Reservation(mac: MAC(0x0200_0000_0001), ip: IPv4(192, 0, 2, 10), subnet: "192.0.2.0/24")) }
            .contains("192.0.2.10 is already reserved"))
        #expect(rejection { try reservations.add(Reservation(mac: MAC(0x0200_0000_0001), ip: IPv4(192, 0, 2, 11), subnet: "")) }
            .contains("a reservation needs a subnet"))
        var moved = alpha
        moved.mac = MAC(0x0200_0000_0002)
        moved.ip = IPv4(192, 0, 2, 12)
        try reservations.replace(mac: alpha.mac, with: moved)
        #expect(try reservations.list() == [moved])
        #expect(rejection { try reservations.replace(mac: alpha.mac, with: alpha) }.contains("no reservation for \(alpha.mac)"))
        #expect(rejection { _ = try reservations.removeSubnetIfPresent("192.0.2.0/24") }.contains("still has 1 reservation(s)"))
        #expect(try reservations.removeIfPresent(mac: moved.mac))
        #expect(try !reservations.removeIfPresent(mac: moved.mac))
        #expect(try reservations.removeSubnetIfPresent("192.0.2.0/24"))
        #expect(try !reservations.removeSubnetIfPresent("192.0.2.0/24"))
    }

    @Test func addListRemoveAndTheEngineSeesIt() async throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        #expect(try reservations.listSubnets() == [lab])
        try reservations.addMap(mac: "00-11-22-33-44-55", ip: "192.0.2.10", subnet: "192.0.2.0/24", hostname: "alpha")
        #expect(try reservations.list() == [
            Reservation(mac: ReservationSet.alpha, ip: IPv4(192, 0, 2, 10), subnet: "192.0.2.0/24", hostname: "alpha"),
        ])
        let engine = try SQLiteDatabase(path: reservations.path, query: try DefinitionQuery(), logger: quietLogger)
        let definition = try #require(try await engine.lookupMAC(ReservationSet.alpha).first)
        #expect(definition.hostname == "alpha" && definition.gateways == [IPv4(192, 0, 2, 1)] && definition.leaseTime == 3600)
        try reservations.remove(mac: "00:11:22:33:44:55")
        #expect(try reservations.list().isEmpty)
        #expect(try await engine.lookupMAC(ReservationSet.alpha).isEmpty)
        try reservations.removeSubnet("192.0.2.0/24")
        #expect(try reservations.listSubnets().isEmpty)
    }

    @Test func badEditsAreRefusedWithTheReason() throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        try reservations.addMap(mac: "00:11:22:33:44:55", ip: "192.0.2.10", subnet: "192.0.2.0/24")
        #expect(rejection { try reservations.addMap(mac: "00:11:22:33:44", ip: "192.0.2.11", subnet: "192.0.2.0/24") }
            .contains("'00:11:22:33:44' is not a MAC address"))
        #expect(rejection { try reservations.addMap(mac: "02:00:00:00:00:01", ip: "192.0.2", subnet: "192.0.2.0/24") }
            .contains("'192.0.2' is not an IPv4 address"))
        #expect(rejection { try reservations.addMap(mac: "00:11:22:33:44:55", ip: "192.0.2.12", subnet: "192.0.2.0/24") }
            .contains("00:11:22:33:44:55 is already reserved"))
        #expect(rejection { try reservations.addMap(mac: "02:00:00:00:00:01", ip: "192.0.2.10", subnet: "192.0.2.0/24") }
            .contains("192.0.2.10 is already reserved for 00:11:22:33:44:55"))
        #expect(rejection { try reservations.addMap(mac: "02:00:00:00:00:01", ip: "192.0.2.13", subnet: "nowhere") }
            .contains("subnet 'nowhere' serial 0 does not exist"))
        #expect(rejection { try reservations.addSubnet(lab) }.contains("already exists"))
        #expect(rejection { try reservations.removeSubnet("192.0.2.0/24") }.contains("still has 1 reservation"))
        #expect(rejection { try reservations.removeSubnet("nowhere", serial: 3) }.contains("'nowhere' serial 3 does not exist"))
        #expect(rejection { try reservations.remove(mac: "02:00:00:00:00:09") }.contains("no reservation for 02:00:00:00:00:09"))
    }

    @Test func aReplacementIsOneTransactionThatLeavesTheOldOneWhenRefused() throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        try reservations.addMap(mac: "02:00:00:00:00:01", ip: "192.0.2.10", subnet: "192.0.2.0/24", hostname: "alpha")
        try reservations.addMap(mac: "02:00:00:00:00:02", ip: "192.0.2.20", subnet: "192.0.2.0/24", hostname: "beta")
        // Keeping its own address is not a conflict with itself.
        try reservations.replaceMap(mac: "02:00:00:00:00:01", withMAC: "02:00:00:00:00:01", ip: "192.0.2.10",
                                    subnet: "192.0.2.0/24", hostname: "alpha-2")
        #expect(try reservations.reservation(mac: "02:00:00:00:00:01")?.hostname == "alpha-2")
        // Taking beta's address is refused, and alpha-2 is still there as it was.
        let refused = rejection {
            try reservations.replaceMap(mac: "02:00:00:00:00:01", withMAC: "02:00:00:00:00:01", ip: "192.0.2.20",
                                        subnet: "192.0.2.0/24")
        }
        #expect(refused.contains("192.0.2.20"), "\(refused)")
        #expect(try reservations.reservation(mac: "02:00:00:00:00:01")
            == Reservation(mac: MAC(0x0200_0000_0001), ip: IPv4(192, 0, 2, 10), subnet: "192.0.2.0/24", hostname: "alpha-2"))
        // A new MAC replaces the old one.
        try reservations.replaceMap(mac: "02:00:00:00:00:01", withMAC: "02:00:00:00:00:03", ip: "192.0.2.10", subnet: "192.0.2.0/24")
        #expect(try reservations.reservation(mac: "02:00:00:00:00:01") == nil)
        #expect(try reservations.reservation(mac: "02:00:00:00:00:03")?.ip == IPv4(192, 0, 2, 10))
        #expect(rejection { try reservations.replaceMap(mac: "02:00:00:00:00:99", withMAC: "02:00:00:00:00:99", ip: "192.0.2.99",
                                                        subnet: "192.0.2.0/24") }.contains("no reservation for 02:00:00:00:00:99"))
    }

    @Test func searchFiltersInSQLByMACAddressHostnameOrSubnet() throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        for index in 1...30 {
            try reservations.addMap(mac: String(format: "02:00:00:00:00:%02x", index), ip: "192.0.2.\(index + 100)",
                                    subnet: "192.0.2.0/24", hostname: index == 7 ? "Printer_7" : "host\(index)")
        }
        #expect(try reservations.search("", limit: 5).map(\.mac) == (1...5).map { MAC(0x0200_0000_0000 + UInt64($0)) })
        #expect(try reservations.search("printer", limit: 10).map(\.hostname) == ["Printer_7"])
        #expect(try reservations.search("192.0.2.12", limit: 10).count == 10) // .120 ... .129
        #expect(try reservations.search("00:00:1E", limit: 10).map(\.ip) == [IPv4(192, 0, 2, 130)])
        // LIKE's wildcards are matched literally: "_7" is only in Printer_7, "%" in nothing.
        #expect(try reservations.search("_7", limit: 10).map(\.hostname) == ["Printer_7"])
        #expect(try reservations.search("%", limit: 10).isEmpty)
        #expect(try reservations.search("0/24", limit: 3).count == 3)
    }

    @Test func updateSubnetReplacesItsSettingsInPlace() async throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        try reservations.addMap(mac: "00:11:22:33:44:55", ip: "192.0.2.10", subnet: "192.0.2.0/24")
        var changed = lab
        changed.leaseTime = 7200
        changed.gateways = [IPv4(192, 0, 2, 254)]
        changed.domainName = "lab.example"
        changed.domainNameServers = []
        try reservations.updateSubnet(changed)
        #expect(try reservations.listSubnets() == [changed])
        let engine = try SQLiteDatabase(path: reservations.path, query: try DefinitionQuery(), logger: quietLogger)
        let definition = try #require(try await engine.lookupMAC(ReservationSet.alpha).first)
        #expect(definition.leaseTime == 7200 && definition.gateways == [IPv4(192, 0, 2, 254)])
        var missing = lab
        missing.serial = 4
        #expect(rejection { try reservations.updateSubnet(missing) }.contains("'192.0.2.0/24' serial 4 does not exist"))
        changed.leaseTime = 0
        #expect(rejection { try reservations.updateSubnet(changed) }.contains("lease time must be above 0"))
    }

    @Test func importIsAllOrNothingAndNamesTheBadLine() throws {
        let (reservations, directory) = try tool()
        defer { directory.cleanup() }
        try reservations.addSubnet(lab)
        let bad = """
            mac,ip,subnet,serial,hostname
            02:00:00:00:00:01,192.0.2.21,192.0.2.0/24,0,one
            02:00:00:00:00:02,192.0.2.22,192.0.2.0/24,0,two
            02:00:00:00:00:03,192.0.2.21,192.0.2.0/24,0,clash
            """
        let message = rejection { try reservations.importCSV(text: bad, source: "hosts.csv") }
        #expect(message.contains("hosts.csv, line 4: 192.0.2.21 is already reserved for 02:00:00:00:00:01"))
        #expect(try reservations.list().isEmpty)
        #expect(rejection { try reservations.importCSV(text: "02:00:00:00:00:01,192.0.2.21,192.0.2.0/24,zero", source: "x.csv") }
            .contains("x.csv, line 1: serial 'zero' is not an integer"))
        #expect(rejection { try reservations.importCSV(text: "\n\n02:00:00:00:00:0g,192.0.2.21,192.0.2.0/24", source: "y.csv") }
            .contains("y.csv, line 3: '02:00:00:00:00:0g' is not a MAC address"))
        #expect(rejection { try reservations.importCSV(file: directory.file("missing.csv")) }.contains("cannot read"))

        let good = bad.split(separator: "\n").dropLast().joined(separator: "\n") + "\n\"02:00:00:00:00:04\",192.0.2.24,192.0.2.0/24,,\"four, with comma\"\n"
        #expect(try reservations.importCSV(text: good) == 3)
        let exported = try reservations.exportCSV()
        #expect(exported.contains("02:00:00:00:00:04,192.0.2.24,192.0.2.0/24,0,\"four, with comma\""))

        // Export, import into a fresh file: the same reservations.
        let copy = try Reservations(path: directory.file("copy.sqlite3"))
        try copy.initSchema()
        try copy.addSubnet(lab)
        try exported.write(toFile: directory.file("export.csv"), atomically: true, encoding: .utf8)
        #expect(try copy.importCSV(file: directory.file("export.csv")) == 3)
        #expect(try copy.list() == reservations.list())
    }

    /// A database made by the original's tools: no NOCASE index, a MAC stored in capitals. An
    /// import still refuses that MAC in any case, and a MAC twice in the file, naming the line.
    @Test func importIntoAMigratedDatabaseRefusesReservedMACsInAnyCase() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("migrated.sqlite3")
        let queue = try GRDB.DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: originalSchema + """
                INSERT INTO subnets VALUES ('192.0.2.0/24', 0, 3600, NULL, NULL, NULL, NULL, NULL, NULL);
                INSERT INTO maps VALUES ('02:00:00:00:00:AA', '192.0.2.30', NULL, '192.0.2.0/24', 0);
                """)
        }
        let reservations = try Reservations(path: path)
        #expect(rejection { try reservations.importCSV(text: "02:00:00:00:00:aa,192.0.2.31,192.0.2.0/24", source: "a.csv") }
            .contains("a.csv, line 1: 02:00:00:00:00:aa is already reserved (192.0.2.30 in '192.0.2.0/24' serial 0)"))
        let twice = "02:00:00:00:00:01,192.0.2.41,192.0.2.0/24\n02:00:00:00:00:01,192.0.2.42,192.0.2.0/24\n"
        #expect(rejection { try reservations.importCSV(text: twice, source: "b.csv") }
            .contains("b.csv, line 2: 02:00:00:00:00:01 is already reserved (192.0.2.41 in '192.0.2.0/24' serial 0)"))
        #expect(try reservations.list().count == 1)
        #expect(try reservations.importCSV(text: "02:00:00:00:00:01,192.0.2.41,192.0.2.0/24\n02:00:00:00:00:02,192.0.2.42,192.0.2.0/24\n") == 2)
        #expect(try reservations.list().count == 3)
    }

    @Test func demoSeedingHappensOnceAndServes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let reservations = try Reservations(path: directory.file("demo.sqlite3"))
        #expect(try reservations.seedDemo())
        #expect(try reservations.seedDemo() == false)
        #expect(try reservations.list().count == 2)
        let engine = try SQLiteDatabase(path: reservations.path, query: try DefinitionQuery(), logger: quietLogger)
        let definition = try #require(try await engine.lookupMAC(MAC(0x0200_0000_0001)).first)
        #expect(definition.ip == IPv4(192, 0, 2, 10) && definition.subnet == "192.0.2.0/24")
    }
}
