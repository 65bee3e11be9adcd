import DHCPModel
import DHCPWire
import Foundation
import Testing
@testable import Web

@Suite struct TelemetryTests {
    private let start = Date(timeIntervalSince1970: 1_790_000_000)

    private func statistics(_ method: String?, mac: MAC?, reply: String? = nil) -> Statistics {
        var record = Statistics(
            sourceIP: IPv4(192, 0, 2, 9), sourcePort: 68, mac: mac, ip: IPv4(192, 0, 2, 50), subnet: "lab", serial: 1,
            method: method, processingTime: 0.001, processed: reply != nil, port: 67, outcome: reply == nil ? .unknown : .replied)
        record.reply = reply
        return record
    }

    @Test func theLatestEventPerMACComesFirst() {
        let telemetry = Telemetry()
        telemetry.record(statistics("DISCOVER", mac: MAC(1), reply: "OFFER"), at: start)
        telemetry.record(statistics("DISCOVER", mac: MAC(2)), at: start.addingTimeInterval(1))
        telemetry.record(statistics("REQUEST:SELECTING", mac: MAC(1), reply: "ACK"), at: start.addingTimeInterval(2))
        telemetry.record(statistics(nil, mac: nil), at: start.addingTimeInterval(3))
        let clients = telemetry.recentClients()
        #expect(clients.map(\.mac) == [MAC(1).description, MAC(2).description])
        #expect(clients[0].method == "REQUEST:SELECTING" && clients[0].outcome == "ACK")
        #expect(clients[1].outcome == "ignored: unknown MAC")
        #expect(clients[0].ip == "192.0.2.50" && clients[0].port == 67 && clients[0].serial == 1)
    }

    @Test func theOldestClientsGoPastTheMaximum() {
        let telemetry = Telemetry(maximumClients: 4)
        for index in 1...6 {
            telemetry.record(statistics("DISCOVER", mac: MAC(UInt64(index))), at: start.addingTimeInterval(Double(index)))
        }
        // 6 is within half the maximum again: nothing is dropped yet.
        #expect(telemetry.recentClients().count == 6)
        telemetry.record(statistics("DISCOVER", mac: MAC(7)), at: start.addingTimeInterval(7))
        #expect(telemetry.recentClients().map(\.mac) == (4...7).reversed().map { MAC(UInt64($0)).description })
    }

    @Test func activityIsPacketsPerSecondPerMethodInTenSecondBuckets() throws {
        let telemetry = Telemetry()
        for _ in 0..<5 { telemetry.record(statistics("DISCOVER", mac: MAC(1)), at: start) }
        telemetry.record(statistics(nil, mac: nil), at: start.addingTimeInterval(10))
        let activity = telemetry.activity(now: start.addingTimeInterval(10))
        #expect(activity.intervalSeconds == 10)
        #expect(activity.end == start.addingTimeInterval(20))
        let discover = try #require(activity.series["DISCOVER"])
        #expect(discover.count == 360)
        #expect(discover[358] == 0.5 && discover[359] == 0)
        #expect(activity.series["NON-DHCP"]?.last == 0.1)
    }

    @Test func activityLeavesOutBucketsOlderThanAnHour() {
        let telemetry = Telemetry()
        telemetry.record(statistics("DISCOVER", mac: MAC(1)), at: start)
        #expect(telemetry.activity(now: start.addingTimeInterval(3_590)).series["DISCOVER"]?.first == 0.1)
        #expect(telemetry.activity(now: start.addingTimeInterval(3_600)).series.isEmpty)
    }
}
