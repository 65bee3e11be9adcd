import Databases
import DHCPWire
@testable import Engine
import Testing

/// A DISCOVER whose last option the datagram's end cuts off is answered from the options before
/// it, and counted (docs/PROTOCOL.md §6 item 17).
@Suite struct TruncatedOptionTests {
    /// `packet` on the wire with `tail` appended in place of its END and padding.
    func cutOff(_ packet: DHCPPacket, tail: [UInt8]) -> [UInt8] {
        var bytes = packet.encode()
        while bytes.last == 0 { bytes.removeLast() }
        #expect(bytes.removeLast() == 255)
        return bytes + tail
    }

    func deliver(_ bytes: [UInt8], to harness: Harness, from source: IPv4 = .zero, port: UInt16 = 68) async -> OutgoingReply? {
        harness.sender.clear()
        await harness.engine.handle(Datagram(bytes: bytes, sourceIP: source, sourcePort: port, localPort: 67))
        return harness.sender.replies.last
    }

    @Test func overlongLastOptionStillGetsAnOffer() async throws {
        let harness = Harness()
        let datagram = cutOff(clientPacket(1), tail: [12, 200] + Array("short".utf8))
        let offer = try #require(try onTheWire(await deliver(datagram, to: harness)))
        #expect(offer.messageType == .offer)
        #expect(offer.yiaddr == knownDefinition.ip)
        #expect(await harness.engine.counters.truncatedOptions == 1)
        #expect(await harness.engine.counters.malformed == 0)
    }

    @Test func relayedDiscoverEndingInALoneCodeByteGetsAnOffer() async throws {
        let harness = Harness()
        let relay = IPv4(198, 51, 100, 2)
        let datagram = cutOff(clientPacket(1, giaddr: relay), tail: [12])
        let reply = try #require(await deliver(datagram, to: harness, from: relay, port: 67))
        #expect(try onTheWire(reply)?.messageType == .offer)
        #expect(reply.answerIP == relay)
        #expect(await harness.engine.counters.truncatedOptions == 1)
    }

    @Test func truncatedMessageTypeIsNotAnswered() async throws {
        let harness = Harness()
        var packet = clientPacket(1)
        _ = packet.removeOption(53)
        let datagram = cutOff(packet, tail: [53, 1])
        #expect(await deliver(datagram, to: harness) == nil)
        #expect(await harness.engine.counters.truncatedOptions == 1)
    }

    @Test func garbageIsStillCountedAsMalformed() async {
        let harness = Harness()
        #expect(await deliver([UInt8](repeating: 0x42, count: 300), to: harness) == nil)
        #expect(await harness.engine.counters.malformed == 1)
        #expect(await harness.engine.counters.truncatedOptions == 0)
    }
}
