import Databases
import DHCPWire
@testable import Engine
import Synchronization
import Testing

/// A database whose reservations can change between packets, counting how often it is asked.
final class EditableDatabase: Database {
    let entries: Mutex<[MAC: [Definition]]>
    let lookups = Atomic<Int>(0)
    init(_ entries: [MAC: [Definition]]) { self.entries = Mutex(entries) }
    var engineName: String { "Editable" }
    func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        lookups.add(1, ordering: .relaxed)
        return entries.withLock { $0[mac] ?? [] }
    }
    func reinitialise() async throws {}
    var asked: Int { lookups.load(ordering: .relaxed) }
}

@Suite struct OfferMemoTests {
    private func moved(_ definition: Definition, to ip: IPv4) -> Definition {
        var copy = definition
        copy.ip = ip
        return copy
    }

    @Test func theRequestAcceptingAnOfferIsJudgedOnTheOffersLookup() async throws {
        let database = EditableDatabase([knownMAC: [knownDefinition]])
        let harness = Harness(database: database)
        let offer = try #require(try onTheWire(await harness.exchange(clientPacket(1))))
        #expect(offer.messageType == .offer && offer.yiaddr == IPv4(192, 0, 2, 10))
        // The reservation moves after the OFFER: the client's REQUEST still gets what it was offered.
        database.entries.withLock { $0[knownMAC] = [moved(knownDefinition, to: IPv4(192, 0, 2, 20))] }
        let ack = try #require(try onTheWire(await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 10), server: serverIP))))
        #expect(ack.messageType == .ack && ack.yiaddr == IPv4(192, 0, 2, 10))
        #expect(database.asked == 1)
        #expect(await harness.engine.counters.rememberedOffers == 1)
        #expect(await harness.engine.counters.databaseLookups == 1)
        // Taken once: the next exchange sees the edit.
        let next = try #require(try onTheWire(await harness.exchange(clientPacket(1))))
        #expect(next.yiaddr == IPv4(192, 0, 2, 20))
        #expect(database.asked == 2)
    }

    @Test func anyOtherRequestAsksTheDatabase() async throws {
        let database = EditableDatabase([knownMAC: [knownDefinition]])
        let harness = Harness(database: database)
        await harness.exchange(clientPacket(1))
        // Another xid is not the answer to that OFFER.
        var other = clientPacket(3, requested: IPv4(192, 0, 2, 10), server: serverIP)
        other.xid = 0x0BAD_F00D
        #expect(try onTheWire(await harness.exchange(other))?.messageType == .ack)
        #expect(database.asked == 2)
        // The entry was dropped by that REQUEST: a retransmission asks again.
        await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 10), server: serverIP))
        #expect(database.asked == 3)
        // INIT-REBOOT and RELEASE never use it.
        await harness.exchange(clientPacket(1))
        await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 10)))
        await harness.exchange(clientPacket(7, server: serverIP, ciaddr: IPv4(192, 0, 2, 10)))
        #expect(database.asked == 6)
        #expect(await harness.engine.counters.rememberedOffers == 0)
    }

    @Test func aReloadForgetsTheOffersOfTheOldGeneration() async throws {
        let database = EditableDatabase([knownMAC: [knownDefinition]])
        let harness = Harness(database: database)
        await harness.exchange(clientPacket(1))
        let generation = await harness.engine.generation
        var next = generation
        next.number += 1
        await harness.engine.install(next)
        await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 10), server: serverIP))
        #expect(database.asked == 2)
    }

    @Test func rapidCommitAndUnansweredDiscoversRememberNothing() async throws {
        let database = EditableDatabase([knownMAC: [knownDefinition]])
        let harness = Harness(database: database)
        var rapid = clientPacket(1)
        rapid.setOption(80, bytes: [])
        #expect(try onTheWire(await harness.exchange(rapid))?.messageType == .ack)
        #expect(await harness.engine.offers.count == 0)
        await harness.exchange(clientPacket(1, mac: unknownMAC))
        #expect(await harness.engine.offers.count == 0)
    }

    @Test func memoryIsBoundedAndEntriesExpire() {
        var memo = OfferMemo(window: .seconds(10), capacity: 3)
        let start = ContinuousClock.now
        for index in 0..<3 {
            memo.remember([knownDefinition], mac: MAC(UInt64(index)), xid: 1, generation: 1, now: start)
        }
        #expect(memo.count == 3)
        // Full of live entries: the new one replaces them all rather than growing.
        memo.remember([knownDefinition], mac: MAC(99), xid: 1, generation: 1, now: start)
        #expect(memo.count == 1)
        #expect(memo.take(mac: MAC(99), xid: 1, generation: 1, now: start + .seconds(11)) == nil)
        memo.remember([knownDefinition], mac: MAC(5), xid: 1, generation: 1, now: start)
        memo.removeExpired(now: start + .seconds(10))
        #expect(memo.count == 0)
        var off = OfferMemo(window: .zero)
        off.remember([knownDefinition], mac: MAC(1), xid: 1, generation: 1, now: start)
        #expect(off.count == 0)
    }
}
