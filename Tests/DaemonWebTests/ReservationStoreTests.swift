import Databases
import DHCPWire
import Foundation
import Scripting
import Testing
import Web
@testable import DaemonWeb

@Suite struct ReservationStoreTests {
    private func sqliteFile() throws -> String {
        let path = NSTemporaryDirectory() + "daemonweb-\(UUID()).sqlite3"
        _ = try Reservations(path: path).seedDemo()
        return path
    }

    /// The tool's refusals reach the operator as they are.
    @Test func aRefusedEditIsShownToTheOperator() async throws {
        let store = SQLiteReservationStore(reservations: try Reservations(path: try sqliteFile()))
        let taken = Reservation(mac: MAC(0x0200_0000_0001), ip: IPv4(192, 0, 2, 50), subnet: "192.0.2.0/24", serial: 0, hostname: nil)
        await #expect { try await store.addReservation(taken) } throws: { $0 is any UserFacingError }
        #expect(try await store.reservation(mac: MAC(0x0200_0000_0001))?.ip == IPv4(192, 0, 2, 10))
        #expect(try await store.searchReservations(matching: "demo-two", limit: 10).map(\.ip) == [IPv4(192, 0, 2, 11)])
    }

    /// Only an SQLite database can be edited in the browser.
    @Test func theEditorIsOfferedForAnSQLiteDatabaseOnly() throws {
        var settings = Settings()
        #expect(Dashboard.reservationStore(settings) == nil)
        settings.databaseEngine = .named("SQLite")
        #expect(Dashboard.reservationStore(settings) == nil) // no SQLITE_FILE
        settings.sqliteFile = try sqliteFile()
        #expect(Dashboard.reservationStore(settings) != nil)
        settings.databaseEngine = .named("INI")
        #expect(Dashboard.reservationStore(settings) == nil)
    }
}
