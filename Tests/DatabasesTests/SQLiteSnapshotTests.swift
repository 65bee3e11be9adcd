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

    @Test func lookupsShareATransactionButSeeEveryCommitAtOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("wal.sqlite3")
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        let database = try engine(path)
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

    @Test func rollbackJournalFilesKeepOneTransactionPerLookup() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("journal.sqlite3")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: ReservationSet.sql) }
        let database = try engine(path)
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.count == 1)
        #expect(!database.holdsReadSnapshot)
        try queue.write { db in try db.execute(sql: "DELETE FROM maps WHERE mac = '00:11:22:33:44:55'") }
        #expect(try database.lookupImmediately(ReservationSet.alpha)?.isEmpty == true)
    }
}
