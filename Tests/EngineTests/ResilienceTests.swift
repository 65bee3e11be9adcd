import Databases
import DHCPWire
@testable import Engine
import Testing

/// Bad input and misbehaving clients never stop the engine serving others.
@Suite struct ResilienceTests {
    @Test func malformedDatagramsAreCountedAndTheNextClientIsServed() async throws {
        let harness = Harness()
        for bytes in [[], [1, 2, 3], [UInt8](repeating: 0, count: 300), Array(clientPacket(1).encode().prefix(239))] {
            await harness.engine.handle(Datagram(bytes: bytes, sourceIP: .zero, sourcePort: 68, localPort: 67))
        }
        #expect(await harness.engine.counters.malformed == 4)
        #expect(harness.hooks.statistics.allSatisfy { $0.outcome == .malformed && $0.mac == nil })
        #expect(await harness.exchange(clientPacket(1))?.packet.messageType == .offer)
    }

    @Test func aFloodingMACIsSuspendedWhileOthersAreServed() async throws {
        let other = MAC(0x0200_0000_0002)
        let database = MemoryDatabase(entries: [knownMAC: [knownDefinition], other: [knownDefinition]])
        let harness = Harness(database: database)
        var answered = 0
        for _ in 0..<15 where await harness.exchange(clientPacket(1)) != nil { answered += 1 }
        #expect(answered == 10)
        #expect(harness.hooks.statistics.contains { $0.outcome == .suspended })
        #expect(await harness.exchange(clientPacket(1, mac: other)) != nil)
        // Decay: after the suspension runs out the client is served again.
        for _ in 0..<150 { await harness.engine.tick() }
        #expect(await harness.exchange(clientPacket(1)) != nil)
    }

    @Test func filterPacketNilBlocklistsAndFalseOnlyDrops() async throws {
        let hooks = ClosureHooks()
        hooks.filter = { _, context in context.mac == knownMAC ? .drop : .blocklist }
        let harness = Harness(database: MemoryDatabase(entries: [knownMAC: [knownDefinition], unknownMAC: [knownDefinition]]), hooks: hooks)
        #expect(await harness.exchange(clientPacket(1)) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .filtered)
        #expect(await harness.exchange(clientPacket(1, mac: unknownMAC)) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .blocklisted)
        hooks.filter = nil
        #expect(await harness.exchange(clientPacket(1)) != nil)
        #expect(await harness.exchange(clientPacket(1, mac: unknownMAC)) == nil) // still blocklisted
    }

    @Test func aHookErrorDropsOnlyThatPacket() async throws {
        let hooks = ClosureHooks()
        hooks.load = { _, context, _ throws(HookError) in
            if context.method == "DISCOVER" { throw HookError("conf.lua:12: attempt to index a nil value") }
            return true
        }
        let harness = Harness(hooks: hooks)
        #expect(await harness.exchange(clientPacket(1)) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .hookError)
        #expect(await harness.engine.counters.hookErrors == 1)
        #expect(await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 10), server: serverIP))?.packet.messageType == .ack)
    }

    @Test func aFailingDatabaseDropsTheRequestWithoutBlocklisting() async throws {
        let harness = Harness(database: MemoryDatabase(entries: [:], failure: "connection refused"))
        #expect(await harness.exchange(clientPacket(1)) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .databaseError)
        #expect(await harness.engine.ignoredMACCount == 0)
    }

    @Test func severalDefinitionsGoThroughFilterRetrievedDefinitions() async throws {
        var second = knownDefinition
        second.ip = IPv4(198, 51, 100, 10)
        let hooks = ClosureHooks()
        hooks.choose = { definitions, context in
            definitions.first { $0.ip.isSubnetMember(context.relayIP ?? .zero, prefix: 24) }
        }
        let harness = Harness(database: MemoryDatabase(entries: [knownMAC: [knownDefinition, second]]), hooks: hooks)
        let relay = IPv4(198, 51, 100, 2)
        let offer = try #require(await harness.exchange(clientPacket(1, giaddr: relay), from: relay, port: 67))
        #expect(offer.packet.yiaddr == second.ip)
    }

    @Test func handleUnknownMACAndLoadDHCPPacketShapeTheReply() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [Definition(ip: IPv4(192, 0, 2, 50), leaseTime: 60, subnet: "pool", serial: 0)] }
        hooks.load = { packet, _, definition in
            packet.setOption(58, bytes: [0, 0, 0, 30])
            return definition?.ip != IPv4(192, 0, 2, 51)
        }
        let harness = Harness(database: NullDatabase(), hooks: hooks)
        let offer = try #require(try onTheWire(await harness.exchange(clientPacket(1, mac: unknownMAC))))
        #expect(offer.yiaddr == IPv4(192, 0, 2, 50))
        #expect(offer.option(58) == [0, 0, 0, 30])
    }

    @Test func reloadKeepsTheBlocklistAndSwitchesHooks() async throws {
        let harness = Harness()
        #expect(await harness.exchange(clientPacket(1, mac: unknownMAC)) == nil)
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [knownDefinition] }
        await harness.engine.install(Generation(
            number: 2, configuration: EngineConfiguration(serverIP: serverIP), hooks: hooks,
            database: MemoryDatabase(entries: [:])
        ))
        #expect(await harness.engine.ignoredMACCount == 1)
        #expect(await harness.exchange(clientPacket(1, mac: unknownMAC)) == nil) // still blocklisted
        #expect(await harness.exchange(clientPacket(1, mac: MAC(0x0200_0000_0003))) != nil) // new hook answers
    }
}

@Suite struct RepeatedErrorTests {
    @Test func theSameErrorIsLoggedOncePerIntervalWithACount() {
        var errors = RepeatedErrors(interval: .seconds(60), capacity: 2)
        let start = ContinuousClock.now
        #expect(errors.admit("store down", now: start) == (true, 0))
        #expect(errors.admit("store down", now: start + .seconds(1)) == (false, 0))
        #expect(errors.admit("store down", now: start + .seconds(2)) == (false, 0))
        #expect(errors.admit("other", now: start + .seconds(3)) == (true, 0))
        #expect(errors.admit("store down", now: start + .seconds(61)) == (true, 2))
        // Past its capacity it forgets rather than grows.
        #expect(errors.admit("third", now: start + .seconds(62)) == (true, 0))
        #expect(errors.admit("store down", now: start + .seconds(63)) == (true, 0))
    }
}
