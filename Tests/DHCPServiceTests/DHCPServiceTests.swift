import DHCPNetwork
@testable import DHCPService
import DHCPWire
import Engine
import Testing

/// The packet side over real loopback sockets: the production readers on the engine's thread.
@Suite struct DHCPServiceTests {
    @Test func datagramsReachTheEngineThroughTheReaders() async throws {
        let log = SeenLog()
        let sockets = try loopbackSockets()
        let service = DHCPService(sockets: sockets, generation: generation(1, log: log), logger: testLogger)
        service.start()
        let client = try TestClient()
        let macs = (1...3).map { MAC(0x0200_0000_0100 + UInt64($0)) }
        for mac in macs { try client.send(discover(mac), to: sockets.serverPort) }
        let seen = await log.wait(for: 3)
        #expect(seen == macs.map { RecordingHooks.Seen(generation: 1, mac: $0, port: sockets.serverPort) })
        await service.stop()
    }

    /// PROXY_PORT = 0 binds an ephemeral port no setting names: the datagram itself says it came
    /// in on the proxy socket, and the reply leaves from it to the client's port (docs/PROTOCOL.md §4.2).
    @Test func aRequestOnAnEphemeralProxyPortIsAnsweredFromTheProxySocket() async throws {
        let log = SeenLog()
        let sockets = try loopbackSockets(proxy: true)
        let proxyPort = try #require(sockets.proxyPort)
        let service = DHCPService(sockets: sockets, generation: generation(1, log: log), logger: testLogger)
        service.start()
        let client = try TestClient()
        try client.send(discover(knownMAC), to: proxyPort)
        let reply = try client.receive()
        #expect(reply.port == proxyPort)
        let offer = try DHCPPacket(decoding: reply.bytes)
        #expect(offer.messageType == .offer)
        #expect(offer.yiaddr == knownDefinition.ip)
        await service.stop()
    }

    @Test func aChangeOverAnswersTheOldSocketsWithTheOldGenerationThenReadsOnlyTheNew() async throws {
        let log = SeenLog()
        let old = try loopbackSockets()
        // Not started: nothing reads the old sockets but the changeover itself.
        let service = DHCPService(sockets: old, generation: generation(1, log: log), logger: testLogger)
        let client = try TestClient()
        let queued = (1...3).map { MAC(0x0200_0000_0200 + UInt64($0)) }
        for mac in queued { try client.send(discover(mac), to: old.serverPort) }
        let new = try loopbackSockets()
        await service.changeOver(to: new, installing: generation(2, log: log))
        // Answered in the changeover's job, before it returned.
        #expect(log.all == queued.map { RecordingHooks.Seen(generation: 1, mac: $0, port: old.serverPort) })
        #expect(service.sockets === new)

        let late = MAC(0x0200_0000_0300)
        try client.send(discover(late), to: new.serverPort)
        let seen = await log.wait(for: 4)
        #expect(seen.last == RecordingHooks.Seen(generation: 2, mac: late, port: new.serverPort))
        #expect(seen.count == 4)
        #expect(old.counters.received == 3)
        await service.stop()
    }

    @Test func stopAnswersWhatIsQueued() async throws {
        let log = SeenLog()
        let sockets = try loopbackSockets()
        let service = DHCPService(sockets: sockets, generation: generation(1, log: log), logger: testLogger)
        let client = try TestClient()
        let macs = (1...5).map { MAC(0x0200_0000_0400 + UInt64($0)) }
        for mac in macs { try client.send(discover(mac), to: sockets.serverPort) }
        await service.stop()
        #expect(log.all == macs.map { RecordingHooks.Seen(generation: 1, mac: $0, port: sockets.serverPort) })
        #expect(sockets.counters.received == 5)
    }

    @Test func answerQueuedReadsWhatWaitsAndServingGoesOn() async throws {
        let log = SeenLog()
        let sockets = try loopbackSockets()
        // Not started yet: the datagrams wait in the socket's buffer.
        let service = DHCPService(sockets: sockets, generation: generation(1, log: log), logger: testLogger)
        let client = try TestClient()
        let macs = (1...2).map { MAC(0x0200_0000_0500 + UInt64($0)) }
        for mac in macs { try client.send(discover(mac), to: sockets.serverPort) }
        await service.answerQueued()
        #expect(log.all.map(\.mac) == macs)
        service.start()
        try client.send(discover(knownMAC), to: sockets.serverPort)
        #expect(await log.wait(for: 3).last?.mac == knownMAC)
        await service.stop()
    }

    @Test func installRunsTheNewGenerationOnTheSameSockets() async throws {
        let log = SeenLog()
        let sockets = try loopbackSockets()
        let service = DHCPService(sockets: sockets, generation: generation(1, log: log), logger: testLogger)
        service.start()
        await service.install(generation(2, log: log))
        let client = try TestClient()
        try client.send(discover(knownMAC), to: sockets.serverPort)
        #expect(await log.wait(for: 1) == [RecordingHooks.Seen(generation: 2, mac: knownMAC, port: sockets.serverPort)])
        await service.stop()
    }
}
