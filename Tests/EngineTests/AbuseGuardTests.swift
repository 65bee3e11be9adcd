import DHCPWire
@testable import Engine
import Testing

/// The abuse guard's tables stay bounded under a flood of made-up MACs (issue 21, point 5).
@Suite struct AbuseGuardTests {
    func randomMACs(_ count: Int) -> [MAC] {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<MAC>()
        while seen.count < count { seen.insert(MAC(UInt64.random(in: 0...0xFFFF_FFFF_FFFF, using: &generator))) }
        return Array(seen)
    }

    @Test func aFloodOfRandomMACsKeepsTheCounterTableAtItsCapacity() {
        var guardian = AbuseGuard(configuration: .init(), capacity: 1_000)
        let flood = randomMACs(50_000)
        var footprintAfterFirstWave = 0
        for (index, mac) in flood.enumerated() {
            #expect(guardian.admit(mac) == .accept)
            if index == 9_999 { footprintAfterFirstWave = guardian.footprint }
        }
        #expect(guardian.countedCount == 1_000)
        #expect(guardian.evictions == 49_000)
        // Memory is flat: five times the MACs, no more slots than after the first ten thousand.
        #expect(guardian.footprint <= footprintAfterFirstWave)
        #expect(guardian.footprint <= 4 * 1_000)
    }

    @Test func theOldestCounterIsEvictedFirst() {
        var guardian = AbuseGuard(configuration: .init(suspendThreshold: 2), capacity: 2)
        let first = MAC(0x0200_0000_0001), second = MAC(0x0200_0000_0002), third = MAC(0x0200_0000_0003)
        _ = guardian.admit(first)
        _ = guardian.admit(second)
        _ = guardian.admit(second)
        _ = guardian.admit(third)
        #expect(guardian.evictions == 1)
        // `second` kept its count of 2: one more request trips the threshold. `first` starts over.
        #expect(guardian.admit(second) == .suspended(seconds: 150))
        #expect(guardian.admit(first) == .accept)
    }

    @Test func decayStillEmptiesTheTables() {
        var guardian = AbuseGuard(configuration: .init(), capacity: 100)
        for mac in randomMACs(500) { _ = guardian.admit(mac) }
        guardian.tick()
        #expect(guardian.countedCount == 0)
        for mac in randomMACs(80) { _ = guardian.admit(mac) }
        #expect(guardian.countedCount == 80)
        #expect(guardian.footprint <= 4 * 100)
    }

    @Test func aFloodOfBlocklistedMACsIsBoundedToo() {
        var guardian = AbuseGuard(configuration: .init(), capacity: 500)
        for mac in randomMACs(5_000) { guardian.blocklist(mac) }
        #expect(guardian.ignoredCount == 500)
        #expect(guardian.evictions == 4_500)
    }
}
