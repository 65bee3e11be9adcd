import DHCPWire
import Databases
import Foundation
import Testing

@Suite struct SQLiteTests {
    private func engine(_ path: String) throws -> SQLiteDatabase {
        try SQLiteDatabase(path: path, query: ReservationSet.query, logger: quietLogger)
    }

    @Test func aFileMissingAtStartFailsLookupsUntilItAppears() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("later.sqlite3")
        let database = try engine(path)
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.alpha) }
        #expect(error?.description.contains("\(path) does not exist") == true)
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [ReservationSet.expected[ReservationSet.alpha]!])
    }

    @Test func aFileThatGoesAwayAndComesBackIsPickedUpAgain() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("live.sqlite3")
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        let database = try engine(path)
        #expect(try await database.lookupMAC(ReservationSet.alpha).count == 1)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try await Task.sleep(for: .milliseconds(1100))
        await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.alpha) }
        // Replaced by a different file under the same name: the new content is served.
        try makeSQLiteFile(path, sql: ReservationSet.sql + "\nDELETE FROM maps WHERE mac = '00:11:22:33:44:55';")
        #expect(try await database.lookupMAC(ReservationSet.alpha).isEmpty)
        #expect(try await database.lookupMAC(ReservationSet.gamma).count == 1)
    }

    @Test func aFileWithoutTheSchemaSaysWhatIsMissing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("empty.sqlite3")
        try makeSQLiteFile(path, sql: "CREATE TABLE unrelated (x INTEGER)")
        let error = await #expect(throws: DatabaseError.self) { try await engine(path).lookupMAC(ReservationSet.alpha) }
        #expect(error?.description.contains("no such table") == true)
    }

    @Test func hundredThousandReservationsLookUpQuickly() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("big.sqlite3")
        try await onOwnThread { try makeLargeReservationFile(path, count: 100_000) }
        let database = try SQLiteDatabase(path: path, query: try DefinitionQuery(), logger: quietLogger)
        let probes = 5_000
        let started = ContinuousClock.now
        for index in stride(from: 0, to: 100_000, by: 100_000 / probes) {
            let found = try await database.lookupMAC(MAC(0x0200_0000_0000 + UInt64(index)))
            #expect(found.count == 1 && found[0].ip.value == 0xC633_0000 &+ UInt32(index), "reservation \(index)")
        }
        let elapsed = ContinuousClock.now - started
        #expect(try await database.lookupMAC(MAC(0x0200_0001_0000 + 100_000)).isEmpty)
        // Generous bound for a loaded debug build; scripts/bench-db measures properly.
        #expect(elapsed < .seconds(10), "\(probes) lookups took \(elapsed)")
    }
}
