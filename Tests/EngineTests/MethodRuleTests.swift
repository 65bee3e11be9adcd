import Databases
import DHCPWire
@testable import Engine
import Testing

@Suite struct MethodRuleTests {
    @Test func discoverFromAKnownMACGetsAnOfferWithTheReservation() async throws {
        let harness = Harness()
        let offer = try #require(try onTheWire(await harness.exchange(clientPacket(1))))
        #expect(offer.messageType == .offer)
        #expect(offer.yiaddr == IPv4(192, 0, 2, 10))
        #expect(offer.option(1) == [255, 255, 255, 0])
        #expect(offer.option(3) == [192, 0, 2, 1])
        #expect(offer.option(6) == [192, 0, 2, 53])
        #expect(offer.option(51) == [0, 0, 0x0E, 0x10])
        #expect(offer.option(54) == serverIP.bytes)
        // Not requested in option 55, so not sent (the original's emission rule).
        #expect(offer.option(42) == nil)
    }

    @Test func eachRequestsStatisticsSayWhatBecameOfIt() async throws {
        let harness = Harness()
        await harness.exchange(clientPacket(1))
        #expect(harness.hooks.statistics.last?.reply == "OFFER")
        #expect(harness.hooks.statistics.last?.summary == "OFFER")
        await harness.exchange(clientPacket(3, requested: knownDefinition.ip, server: IPv4(192, 0, 2, 250)))
        #expect(harness.hooks.statistics.last?.reply == nil)
        #expect(harness.hooks.statistics.last?.summary == "ignored: for another server")
    }

    @Test func unknownMACIsIgnoredAndBlocklistedUnlessAuthoritative() async throws {
        let harness = Harness()
        #expect(await harness.exchange(clientPacket(1, mac: unknownMAC)) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .blocklisted)
        #expect(await harness.engine.ignoredMACCount == 1)

        let authoritative = Harness(configuration: EngineConfiguration(serverIP: serverIP, authoritative: true))
        let nak = try #require(try onTheWire(await authoritative.exchange(clientPacket(1, mac: unknownMAC))))
        #expect(nak.messageType == .nak)
    }

    @Test func rapidCommitAckCarriesOption80EvenWhenNotRequested() async throws {
        let harness = Harness()
        var discover = clientPacket(1)
        discover.setOption(80, bytes: [])
        let ack = try #require(try onTheWire(await harness.exchange(discover)))
        #expect(ack.messageType == .ack)
        #expect(ack.option(80) == [])
    }

    @Test func selectingForAnotherServerIsIgnoredWithoutHooks() async throws {
        let hooks = ClosureHooks()
        nonisolated(unsafe) var filtered = false
        hooks.filter = { _, _ in filtered = true; return .accept }
        let harness = Harness(hooks: hooks)
        let request = clientPacket(3, requested: IPv4(192, 0, 2, 10), server: IPv4(192, 0, 2, 2))
        #expect(await harness.exchange(request) == nil)
        #expect(!filtered)
    }

    @Test func selectingAndInitRebootAckTheReservationAndNakAnythingElse() async throws {
        let harness = Harness()
        let ack = try #require(try onTheWire(await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 10), server: serverIP))))
        #expect(ack.messageType == .ack)
        let wrong = try #require(try onTheWire(await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 11), server: serverIP))))
        #expect(wrong.messageType == .nak)
        #expect(wrong.yiaddr == .zero)
        let reboot = try #require(try onTheWire(await harness.exchange(clientPacket(3, requested: IPv4(192, 0, 2, 11)))))
        #expect(reboot.messageType == .nak)
        let unknown = try #require(try onTheWire(await harness.exchange(clientPacket(3, mac: unknownMAC, requested: IPv4(192, 0, 2, 11)))))
        #expect(unknown.messageType == .nak)
    }

    @Test func renewIsAckedToTheClientAddressAndRebindMismatchIsSilent() async throws {
        let harness = Harness()
        let client = IPv4(192, 0, 2, 10)
        let reply = try #require(await harness.exchange(clientPacket(3, ciaddr: client), from: client))
        #expect(reply.packet.messageType == .ack)
        #expect(reply.answerIP == client)
        #expect(reply.packet.yiaddr == client)

        let elsewhere = IPv4(192, 0, 2, 77)
        let nak = try #require(await harness.exchange(clientPacket(3, ciaddr: elsewhere), from: elsewhere))
        #expect(nak.packet.messageType == .nak)
        #expect(await harness.exchange(clientPacket(3, ciaddr: elsewhere), from: .zero) == nil) // REBIND
        #expect(await harness.exchange(clientPacket(3, mac: unknownMAC, ciaddr: elsewhere), from: elsewhere) == nil)
    }

    @Test func nakRenewalsNaksRenewsAndOnlyAuthoritativeRebinds() async throws {
        let harness = Harness(configuration: EngineConfiguration(serverIP: serverIP, nakRenewals: true))
        let client = IPv4(192, 0, 2, 10)
        #expect(await harness.exchange(clientPacket(3, ciaddr: client), from: client)?.packet.messageType == .nak)
        #expect(await harness.exchange(clientPacket(3, ciaddr: client), from: .zero)?.packet.messageType == .ack)
    }

    @Test func relayAgentInformationIsEchoedOnOffersAndNaks() async throws {
        let harness = Harness()
        let relay = IPv4(198, 51, 100, 2)
        var discover = clientPacket(1, giaddr: relay)
        discover.setOption(82, bytes: [1, 3, 65, 66, 67])
        let offer = try #require(try onTheWire(await harness.exchange(discover, from: relay, port: 67)))
        #expect(offer.option(82) == [1, 3, 65, 66, 67])
        #expect(offer.giaddr == relay)

        var request = clientPacket(3, requested: IPv4(192, 0, 2, 99), server: serverIP, giaddr: relay)
        request.setOption(82, bytes: [2, 1, 7])
        let nak = try #require(try onTheWire(await harness.exchange(request, from: relay, port: 67)))
        #expect(nak.messageType == .nak)
        #expect(nak.option(82) == [2, 1, 7])
    }

    @Test func sourcePolicyRejectsRelaysAndLocalClientsAsConfigured() async throws {
        let relay = IPv4(198, 51, 100, 2)
        let noRelays = Harness(configuration: EngineConfiguration(serverIP: serverIP))
        #expect(await noRelays.exchange(clientPacket(1, giaddr: relay), from: relay, port: 67) == nil)
        #expect(noRelays.hooks.statistics.last?.outcome == .policy)

        let onlyOther = Harness(configuration: EngineConfiguration(serverIP: serverIP, allowDHCPRelays: true, allowedDHCPRelays: [IPv4(198, 51, 100, 3)]))
        #expect(await onlyOther.exchange(clientPacket(1, giaddr: relay), from: relay, port: 67) == nil)

        let noLocal = Harness(configuration: EngineConfiguration(serverIP: serverIP, allowLocalDHCP: false, allowDHCPRelays: true))
        #expect(await noLocal.exchange(clientPacket(1)) == nil)
        #expect(await noLocal.exchange(clientPacket(1, giaddr: relay), from: relay, port: 67) != nil)
    }

    @Test func informAcksWithoutAnAddressAndBlocklistsWithoutCiaddr() async throws {
        let harness = Harness()
        let client = IPv4(192, 0, 2, 10)
        let ack = try #require(try onTheWire(await harness.exchange(clientPacket(8, ciaddr: client), from: client)))
        #expect(ack.messageType == .ack)
        #expect(ack.yiaddr == .zero)
        #expect(ack.option(51) == nil)
        #expect(await harness.exchange(clientPacket(8)) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .blocklisted)
    }

    @Test func declineAndReleaseAreNeverAnsweredButAreAccepted() async throws {
        let harness = Harness()
        let client = IPv4(192, 0, 2, 10)
        #expect(await harness.exchange(clientPacket(4, requested: client, server: serverIP)) == nil)
        #expect(harness.hooks.statistics.last?.processed == true)
        #expect(await harness.exchange(clientPacket(7, server: serverIP, ciaddr: client), from: client) == nil)
        #expect(harness.hooks.statistics.last?.processed == true)
        #expect(await harness.exchange(clientPacket(7, mac: unknownMAC, ciaddr: client), from: client) == nil)
        #expect(harness.hooks.statistics.last?.outcome == .blocklisted)
    }
}
