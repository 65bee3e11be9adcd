import DHCPWire
import Testing

@Suite struct RelayTests {
    /// A relayed REQUEST (SELECTING) with option 82, as a relay agent forwards it.
    static let relayedRequest: [UInt8] = {
        var header = vectorHeader()
        header[3] = 1
        header[24...27] = [198, 51, 100, 2]
        return header + hex("63825363 350103 3204c0000232 3604c0000201 3703010306"
            + "5212 0106000400010007 0208000602000000 0001 ff")
    }()

    @Test func relayedRequestDecodes() throws {
        let packet = try DHCPPacket(decoding: Self.relayedRequest)
        #expect(packet.requestMethod(sourceIP: IPv4(198, 51, 100, 2)) == .requestSelecting)
        #expect(packet.giaddr == IPv4(198, 51, 100, 2) && packet.hops == 1)
        #expect(try packet.getOption("relay_agent", convert: true)
            == .relayAgent([1: [0, 4, 0, 1, 0, 7], 2: [0, 6, 2, 0, 0, 0, 0, 1]]))
        #expect(packet.selectedOptions == [1, 3, 6, 15, 51, 53, 54, 58, 59])
    }

    /// The engine echoes option 82 to relays by force-selecting it; unselected it stays home.
    @Test func optionEightyTwoIsEchoedOnlyWhenSelected() throws {
        var reply = try DHCPPacket(decoding: Self.relayedRequest)
        reply.transformToAck()
        try reply.setOption(54, .text("192.0.2.1"))
        #expect(reply.hasOption(82) && !reply.isSelected(82))
        #expect(try !DHCPPacket(decoding: reply.encode()).hasOption(82))
        reply.select(82)
        let echoed = try DHCPPacket(decoding: reply.encode())
        #expect(echoed.option(82) == hex("0106000400010007 0208000602000000 0001"))
        #expect(echoed.giaddr == IPv4(198, 51, 100, 2) && echoed.op == 2)
    }

    /// Rapid commit: option 80 is empty and must be force-selected to travel.
    @Test func rapidCommitIsForceSelected() throws {
        var reply = try DHCPPacket(decoding: Self.relayedRequest)
        reply.transformToAck()
        try reply.setOption("rapid_commit", .bool(true), forceSelection: true)
        #expect(try DHCPPacket(decoding: reply.encode()).option(80) == [])
    }

    @Test func responseOverridesAreNotEncoded() throws {
        var reply = try DHCPPacket(decoding: Self.relayedRequest)
        let plain = reply.encode()
        reply.responseIP = IPv4(192, 0, 2, 99)
        reply.responsePort = 1068
        reply.responseMAC = MAC("02:00:00:00:00:99")
        reply.responseSourcePort = 1067
        #expect(reply.encode() == plain)
        #expect(reply != (try DHCPPacket(decoding: Self.relayedRequest)))
    }
}

@Test func rawAccessIgnoresPadAndEnd() {
    var packet = DHCPPacket()
    packet.setOption(0, bytes: [1])
    packet.setOption(255, bytes: [1])
    #expect(packet.storedCodes.isEmpty)
    packet.setOption(84, bytes: [1, 2]) // the raw API does not consult the table
    #expect(packet.option(84) == [1, 2])
    #expect(packet.removeOption(84) && !packet.removeOption(84))
}
