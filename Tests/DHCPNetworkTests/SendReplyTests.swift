import DHCPWire
import Testing
@testable import DHCPNetwork

@Suite struct SendReplyTests {
    let loopback = IPv4(127, 0, 0, 1)

    func reply() -> DHCPPacket {
        var packet = DHCPPacket()
        packet.op = 2
        packet.htype = 1
        packet.hlen = 6
        packet.setHardwareAddress(MAC(0x0200_0000_0001))
        packet.ciaddr = loopback
        packet.yiaddr = loopback
        packet.isBroadcast = true
        return packet
    }

    @Test func factsComeFromTheReplyAndItsOverrides() throws {
        var packet = reply()
        packet.responsePort = 1068
        packet.responseMAC = MAC(0x0200_0000_0099)
        let facts = try ReplyFacts(reply: packet)
        #expect(facts == ReplyFacts(broadcastFlag: true, ciaddr: loopback, giaddr: .zero, yiaddr: loopback,
                                    clientMAC: MAC(0x0200_0000_0001), responsePort: 1068,
                                    responseMAC: MAC(0x0200_0000_0099)))
    }

    @Test func aShortHardwareLengthIsRejected() {
        var packet = reply()
        packet.hlen = 3
        #expect(throws: WireError.self) { try ReplyFacts(reply: packet) }
    }

    @Test func aUnicastReplyArrivesWithTheFlagClearedAsTheRouteSays() throws {
        let sockets = try DHCPSockets(
            config: NetworkConfig(serverIP: loopback, serverPort: 0, responseInterface: .none), logger: testLogger)
        defer { sockets.shutdown() }
        let client = try TestClientSocket(bindTo: loopback)
        var packet = reply()
        packet.responsePort = client.port
        let route = try sockets.sendReply(packet, requestSource: (loopback, client.port), arrivedOnProxy: false)
        #expect(route.socket == .main)
        #expect(route.broadcastFlag == false)
        let received = try client.receive()
        let decoded = try DHCPPacket(decoding: received.bytes)
        #expect(decoded.isBroadcast == false)
        #expect(decoded.yiaddr == loopback)
        #expect(received.port == sockets.serverPort)
    }
}
