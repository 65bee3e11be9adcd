import DHCPWire
@testable import Databases
import Foundation
import GRDB
import Testing

/// The engine's SQLite connection keeps one read transaction across lookups in WAL mode; these
/// check that a lookup still sees every commit made before it, by any connection.
@Suite struct SQLiteSnapshotTests {
    private func engine(_ path: String) throws -> SQLiteDatabase {
        try SQLiteDatabase(path: path, query: ReservationSet.query, logger: quietLogger)
    }

    /// A WAL-mode file in `directory` holding the reservation set, and the engine's database on it.
    private func walDatabase(in directory: TemporaryDirectory, _ name: String) throws -> (path: String, database: SQLiteDatabase) {
        let path = directory.file(name)
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        return (path, try engine(path))
    }

    @Test func lookupsShareATransactionButSeeEveryCommitAtOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (path, database) = try walDatabase(in: directory, "wal.sqlite3")
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.first?.ip == IPv4(192, 0, 2, 10))
        #expect(database.holdsReadSnapshot)
        // Another connection (as the web editor or sqlite3 would) commits between lookups.
        let writer = try DatabaseQueue(path: path)
        for last in 20..<60 {
            try writer.write { db in
                try db.execute(sql: "UPDATE maps SET ip = ? WHERE mac = '00:11:22:33:44:55'", arguments: ["192.0.2.\(last)"])
            }
            #expect(try database.lookupImmediately(ReservationSet.alpha)?.first?.ip == IPv4(192, 0, 2, UInt8(last)))
            #expect(try database.lookupImmediately(ReservationSet.gamma)?.count == 1)
        }
        try writer.write { db in try db.execute(sql: "DELETE FROM maps WHERE mac = '00:11:22:33:44:55'") }
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.isEmpty == true)
        // The tick gives the transaction back; the next lookup takes a new one.
        database.endReadSnapshot()
        #expect(!database.holdsReadSnapshot)
        #expect(try database.lookupImmediately(ReservationSet.gamma)?.count == 1)
        #expect(database.holdsReadSnapshot)
        // A writer can checkpoint and restart the WAL once the transaction is given back.
        database.endReadSnapshot()
        let checkpoint = try writer.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        #expect(checkpoint?[0] as Int? == 0) // 0: not blocked by a reader
        #expect(try database.lookupImmediately(ReservationSet.beta)?.count == 1)
    }

    /// The engine's own connection reads rows without GRDB; a bad row must still be named by
    /// its MAC (formatted only for the error) and column, and leave the other rows served.
    @Test func malformedRowsOnTheEnginesConnectionNameTheMAC() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("bad.sqlite3")
        try makeSQLiteFile(path, sql: ReservationSet.sql + """
            INSERT INTO subnets VALUES ('late', 0, 'soon', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            INSERT INTO maps VALUES ('02:00:00:00:0b:11', '198.51.100.300', NULL, 'floor 3', 0, NULL);
            INSERT INTO maps VALUES ('02:00:00:00:0b:12', '198.51.100.12', NULL, 'late', 0, NULL);
            """)
        let database = try engine(path)
        let badIP = #expect(throws: Databases.DatabaseError.self) { try database.lookupImmediately(MAC(0x0200_0000_0B11)) }
        #expect(badIP == .malformedRecord(
            mac: "02:00:00:00:0b:11", column: "maps.ip", value: "198.51.100.300", reason: "not an IPv4 address"))
        let badLease = #expect(throws: Databases.DatabaseError.self) { try database.lookupImmediately(MAC(0x0200_0000_0B12)) }
        #expect(badLease?.description.contains("02:00:00:00:0b:12") == true)
        #expect(badLease?.description.contains("'soon'") == true)
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.first?.ip == IPv4(192, 0, 2, 10))
    }

    /// A MAC looked up again is answered from the rows already read, until anything is
    /// committed to the file: then every lookup queries afresh, unknown MACs included.
    @Test func rowsReadAreAnsweredAgainUntilTheNextCommit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (path, database) = try walDatabase(in: directory, "recent.sqlite3")
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.first?.ip == IPv4(192, 0, 2, 10))
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.first?.hostname == "alpha")
        #expect(try database.lookupImmediately(ReservationSet.unknown)?.isEmpty == true)
        #expect(database.recentRowCount == 2)
        // The tick gives the read transaction back; with nothing committed the rows stay good.
        database.endReadSnapshot()
        #expect(try database.lookupImmediately(ReservationSet.gamma)?.first?.ip == IPv4(198, 51, 100, 7))
        #expect(database.recentRowCount == 3)
        // The MAC that was unknown is added by another connection: the next lookup finds it.
        try execute(path, "INSERT INTO maps VALUES ('02:00:00:00:99:99', '198.51.100.99', 'late', 'floor 3', 0, NULL)")
        let added = try database.lookupImmediately(ReservationSet.unknown)
        #expect(added?.first?.ip == IPv4(198, 51, 100, 99))
        #expect(added?.first?.hostname == "late")
        #expect(database.recentRowCount == 1)
        // Even after the tick, a commit between two lookups of the same MAC is seen.
        database.endReadSnapshot()
        try execute(path, "UPDATE maps SET hostname = 'renamed' WHERE mac = '02:00:00:00:99:99'")
        #expect(try database.lookupImmediately(ReservationSet.unknown)?.first?.hostname == "renamed")
    }

    /// The rows kept are bounded, so a flood of distinct MACs (or a million reservations)
    /// cannot grow the daemon's memory.
    @Test func rowsKeptAreBounded() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (_, database) = try walDatabase(in: directory, "bounded.sqlite3")
        let limit = SQLiteLookupConnection.recentRowsLimit
        var largest = 0
        for index in 0..<(limit + 1) {
            #expect(try database.lookupImmediately(MAC(0x0200_0100_0000 + UInt64(index)))?.isEmpty == true)
            largest = max(largest, database.recentRowCount)
        }
        #expect(largest == limit)
        #expect(database.recentRowCount == 1)
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.count == 1)
    }

    @Test func rollbackJournalFilesKeepOneTransactionPerLookup() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("journal.sqlite3")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: ReservationSet.sql) }
        let database = try engine(path)
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.count == 1)
        #expect(!database.holdsReadSnapshot)
        // Without the WAL's snapshot there is nothing to check rows against: none are kept.
        #expect(database.recentRowCount == 0)
        try queue.write { db in try db.execute(sql: "DELETE FROM maps WHERE mac = '00:11:22:33:44:55'") }
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.isEmpty == true)
    }
}
