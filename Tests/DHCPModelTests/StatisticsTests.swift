import DHCPModel
import DHCPWire
import Testing

@Suite struct StatisticsTests {
    private func record(_ outcome: Statistics.Outcome, reply: String? = nil) -> Statistics {
        var statistics = Statistics(
            sourceIP: IPv4(192, 0, 2, 7), sourcePort: 68, mac: MAC(0x0200_0000_0001), ip: nil, subnet: nil,
            serial: nil, method: "DISCOVER", processingTime: 0.001, processed: reply != nil, port: 67, outcome: outcome)
        statistics.reply = reply
        return statistics
    }

    @Test func theReplySentIsTheSummary() {
        #expect(record(.replied, reply: "ACK").summary == "ACK")
    }

    @Test func everyOutcomeWithoutAReplySaysWhy() {
        let summaries = Statistics.Outcome.allCases.map { record($0).summary }
        #expect(Set(summaries).count == Statistics.Outcome.allCases.count)
        #expect(record(.unknown).summary == "ignored: unknown MAC")
    }
}
