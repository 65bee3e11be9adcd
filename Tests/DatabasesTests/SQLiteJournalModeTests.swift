import Databases
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

/// A migrated site's SQLite file (made by `sqlite3` or the original) is in rollback-journal mode:
/// the daemon says at start-up what to run, and never changes the file itself.
@Suite struct SQLiteJournalModeTests {
    final class Warnings: Sendable {
        let messages = Mutex<[String]>([])
        var logger: Logger { Logger(label: "journal-test") { _ in Handler(warnings: self) } }
        struct Handler: LogHandler {
            let warnings: Warnings
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                if event.level == .warning { warnings.messages.withLock { $0.append("\(event.message)") } }
            }
        }
    }

    private func journalMode(_ path: String) throws -> String? {
        try DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
    }

    @Test func aRollbackJournalFileIsServedWithAWarningSayingWhatToRun() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("migrated.sqlite3")
        try execute(path, ReservationSet.sql) // a plain DatabaseQueue: the default journal, as sqlite3 makes
        #expect(try journalMode(path) == "delete")
        let warnings = Warnings()
        let database = try SQLiteDatabase(path: path, query: ReservationSet.query, logger: warnings.logger)
        #expect(try await database.lookupMAC(ReservationSet.alpha).count == 1)
        let said = warnings.messages.withLock { $0 }
        #expect(said.contains { $0.contains("is in journal mode delete, not WAL") && $0.contains("sqlite3 \(path) 'PRAGMA journal_mode = WAL'") },
                "\(said)")
        #expect(try journalMode(path) == "delete", "the site's file is left as it was")
    }

    @Test func aWALFileGetsNoWarning() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("new.sqlite3")
        try makeSQLiteFile(path, sql: ReservationSet.sql)
        let warnings = Warnings()
        let database = try SQLiteDatabase(path: path, query: ReservationSet.query, logger: warnings.logger)
        #expect(try await database.lookupMAC(ReservationSet.alpha).count == 1)
        #expect(!warnings.messages.withLock { $0 }.contains { $0.contains("journal mode") })
    }
}
