import DHCPWire
import Databases
import Foundation
import Testing

@Suite struct INITests {
    private func engine(_ text: String) throws -> (INIDatabase, TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = directory.file("dhcp.ini")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (try INIDatabase(path: path, logger: quietLogger), directory, path)
    }

    private func loadError(_ text: String) -> DatabaseError? {
        guard let directory = try? TemporaryDirectory() else { return nil }
        defer { directory.cleanup() }
        let path = directory.file("bad.ini")
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            _ = try INIDatabase(path: path, logger: quietLogger)
            return nil
        } catch {
            return error as? DatabaseError
        }
    }

    @Test(arguments: ["0800272c494b", "08.00-27;2C:49,4B", "08:00:27:2c:49:4b", "0800.272C.494B"])
    func everyMACSpellingIsAccepted(_ spelling: String) async throws {
        let (database, directory, _) = try engine("[lab|0]\nlease-time=60\n[\(spelling)]\nip=192.0.2.5\nsubnet=lab\nserial=0\n")
        defer { directory.cleanup() }
        #expect(try await database.lookupMAC(MAC(0x0800_272C_494B)).map(\.ip) == [IPv4(192, 0, 2, 5)])
    }

    @Test func extraKeysKeepTheirNamesAndTypePrefixesConvert() async throws {
        let (database, directory, _) = try engine("""
            [a|b|2]
            lease-time: 60
            building = s:i:not-an-int
            [02:00:00:00:00:01]
            ip: 192.0.2.1
            subnet: a|b
            serial: 2
            count = i:42
            ratio = f:0.5
            enabled = b:Okay
            disabled = b:no
            note = "quoted stays quoted"
            """)
        defer { directory.cleanup() }
        let definition = try #require(try await database.lookupMAC(MAC(0x0200_0000_0001)).first)
        #expect(definition.subnet == "a|b")
        #expect(definition.serial == 2)
        #expect(definition.extra == [
            "subnets.building": .string("i:not-an-int"), "maps.count": .integer(42), "maps.ratio": .double(0.5),
            "maps.enabled": .bool(true), "maps.disabled": .bool(false), "maps.note": .string("\"quoted stays quoted\""),
        ])
    }

    @Test func badFilesNameTheLine() {
        #expect(loadError("[x|0]\nlease-time = 0\n")?.withPath("") == .badFile(
            path: "", line: 2, reason: "lease-time '0' must be a whole number of seconds above 0"))
        let unknownSubnet = loadError("[x|0]\nlease-time=60\n[020000000001]\nip=192.0.2.1\nsubnet=y\nserial=0\n")
        #expect(unknownSubnet?.line == 5)
        #expect(unknownSubnet?.description.contains("refers to subnet 'y' serial 0") == true)
        #expect(loadError("[x|0]\nlease-time=60\n[020000000001]\nip=192.0.2.300\nsubnet=x\nserial=0\n")?.line == 4)
        #expect(loadError("[x|0]\nlease-time=60\n[020000000001]\nip=192.0.2.3\nsubnet=x\nserial=0\ncount=i:many\n")?.line == 7)
        #expect(loadError("lease-time=60\n")?.line == 1)
        #expect(loadError("[x|0]\nlease-time=60\nlease-time=70\n")?.line == 3)
        #expect(loadError("[x|0]\nlease-time=60\n[020000000001]\nsubnet=x\nserial=0\n")?.description.contains("has no ip") == true)
    }

    @Test func unrecognisedSectionsAreSkipped() async throws {
        let (database, directory, _) = try engine("[general]\nfoo=bar\n[x|0]\nlease-time=60\n")
        defer { directory.cleanup() }
        #expect(try await database.lookupMAC(ReservationSet.alpha).isEmpty)
    }

    @Test func aBadReloadKeepsTheOldDataAndReportsTheLine() async throws {
        let (database, directory, path) = try engine(ReservationSet.ini)
        defer { directory.cleanup() }
        try (ReservationSet.ini + "\n[020000000099]\nip = nonsense\nsubnet = floor 3\nserial = 0\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let error = await #expect(throws: DatabaseError.self) { try await database.reinitialise() }
        #expect(error?.description.contains("line \(ReservationSet.ini.split(separator: "\n", omittingEmptySubsequences: false).count + 2)") == true, "\(String(describing: error))")
        #expect(try await database.lookupMAC(ReservationSet.alpha).count == 1)
        // A good file replaces the data.
        try "[x|0]\nlease-time=60\n".write(toFile: path, atomically: true, encoding: .utf8)
        try await database.reinitialise()
        #expect(try await database.lookupMAC(ReservationSet.alpha).isEmpty)
    }
}

extension DatabaseError {
    var line: Int? {
        if case .badFile(_, let line, _) = self { return line }
        return nil
    }

    func withPath(_ path: String) -> DatabaseError {
        if case .badFile(_, let line, let reason) = self { return .badFile(path: path, line: line, reason: reason) }
        return self
    }
}
