import DHCPModel
import Testing
@testable import Web

@Suite struct MetricsSnapshotCountersTests {
    @Test func everyOutcomeButAnAnswerIsADrop() {
        var counters = EngineCounters()
        counters.packets = ["DISCOVER": [.replied: 5, .unknown: 2], "RELEASE": [.accepted: 1], "NON-DHCP": [.malformed: 3, .blocklisted: 1]]
        counters.repliesSent = 5
        let snapshot = MetricsSnapshot(counters: counters, cacheHits: 0, reloads: 0, reloadFailures: 0)
        #expect(snapshot.packets == ["DISCOVER": ["replied": 5, "unknown": 2], "RELEASE": ["accepted": 1],
                                     "NON-DHCP": ["malformed": 3, "blocklisted": 1]])
        #expect(snapshot.drops == ["unknown": 2, "malformed": 3, "blocklisted": 1])
        #expect(snapshot.repliesSent == ["all": 5])
    }

    @Test func totalsAndTheDaemonsOwnFiguresAreCarriedOver() {
        var counters = EngineCounters()
        counters.hookCalls = 4
        counters.hookTime = 0.5
        counters.databaseLookups = 10
        counters.databaseTime = 0.25
        counters.hookErrors = 1
        counters.databaseErrors = 2
        counters.rememberedOffers = 3
        counters.abuseEvictions = 6
        counters.truncatedOptions = 7
        let metric = ScriptedMetric(name: "pool_free", help: "free addresses", type: "gauge", labels: ["pool": "lab"], value: 12)
        let snapshot = MetricsSnapshot(counters: counters, cacheHits: 8, reloads: 2, reloadFailures: 1, scripted: [metric])
        #expect(snapshot.hookTime == DurationTotal(count: 4, seconds: 0.5))
        #expect(snapshot.databaseLookups == DurationTotal(count: 10, seconds: 0.25))
        #expect(snapshot.hookErrors == 1 && snapshot.databaseErrors == 2 && snapshot.rememberedOffers == 3)
        #expect(snapshot.abuseEvictions == 6 && snapshot.truncatedOptions == 7)
        #expect(snapshot.cacheHits == 8 && snapshot.reloads == 2 && snapshot.reloadFailures == 1)
        #expect(snapshot.scripted == [metric])
    }
}
