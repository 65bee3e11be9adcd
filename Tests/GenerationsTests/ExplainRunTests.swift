import Databases
import Engine
import Foundation
import Generations
import Testing

/// `staticdhcpd explain`'s run: conf.lua, its database and store built as the daemon builds them.
@Suite struct ExplainRunTests {
    /// conf.lua over SQLite with the demo reservations (02:00:00:00:00:01 is 192.0.2.10).
    private func demoConf(_ more: String...) throws -> URL {
        let file = try writeConf(["DATABASE_ENGINE = \"SQLite\"", "SQLITE_FILE = \"demo.sqlite3\""] + more)
        _ = try Reservations(path: file.deletingLastPathComponent().appendingPathComponent("demo.sqlite3").path).seedDemo()
        return file
    }

    private func discover(_ mac: String) throws -> ExplainRequest {
        try ExplainRequest(parsing: mac, method: nil, relay: nil, requestedIP: nil)
    }

    @Test func aReservedMACIsOfferedItsAddress() async throws {
        let report = try await ExplainRun.run(try discover("02:00:00:00:00:01"), configFile: try demoConf())
        let reply = try #require(report.reply)
        #expect(reply.type == "OFFER" && reply.yiaddr == "192.0.2.10")
        #expect(report.exitStatus == 0)
    }

    @Test func anUnknownMACIsDroppedWithItsReason() async throws {
        let report = try await ExplainRun.run(try discover("02:00:00:00:00:99"), configFile: try demoConf())
        #expect(report.reply == nil && report.exitStatus == 1)
        #expect(report.dropped != nil || report.outcome != nil)
    }

    /// conf.lua's init() runs before the request, as at start-up: one that fails stops the run.
    @Test func aFailingInitIsAFailure() async throws {
        let file = try demoConf("function init() error('no pools today') end")
        await #expect {
            try await ExplainRun.run(try discover("02:00:00:00:00:01"), configFile: file)
        } throws: { error in
            "\(error)".contains("start-up failed") && "\(error)".contains("no pools today")
        }
    }

    @Test func aRejectedConfLuaIsAFailureNamingTheFile() async throws {
        let file = try writeConf(["DHCP_SERVER_PORT = \"not a port\""])
        await #expect {
            try await ExplainRun.run(try discover("02:00:00:00:00:01"), configFile: file)
        } throws: { error in
            "\(error)".contains("\(file.path): configuration rejected")
        }
    }
}
