import DHCPWire
import Testing

@Suite struct CaptureTests {
    func decode(_ name: String) throws -> DHCPPacket {
        guard let bytes = CaptureLibrary.named(name) else {
            Issue.record("capture \(name) is missing")
            throw WireError.malformedPacket("missing capture")
        }
        return try DHCPPacket(decoding: bytes)
    }

    @Test func allCapturesArePresent() {
        #expect(Set(CaptureLibrary.all().map(\.name)) == [
            "udhcpc-discover", "dhclient-discover", "dhcpcd-discover", "perfdhcp-relayed-discover",
        ])
    }

    @Test func udhcpc() throws {
        let packet = try decode("udhcpc-discover")
        #expect(packet.isDHCPDiscoverPacket && packet.op == 1 && packet.hlen == 6)
        #expect(try packet.hardwareAddress().description == "02:00:00:00:00:01")
        #expect(packet.option(55) == [1, 3, 6, 12, 15, 28, 42])
        #expect(packet.option(12) == Array("client1".utf8))
        #expect(packet.option(60) == Array("wiretest".utf8))
        #expect(packet.option(61) == [1, 2, 0, 0, 0, 0, 1])
        #expect(packet.maximumSize == 576)
        #expect(packet.requestMethod(sourceIP: .zero) == .discover)
        #expect(packet.selectedOptions == [1, 3, 6, 12, 15, 28, 42, 51, 53, 54, 58, 59])
    }

    @Test func dhclient() throws {
        let packet = try decode("dhclient-discover")
        #expect(packet.isDHCPDiscoverPacket)
        #expect(try packet.hardwareAddress().description == "02:00:00:00:00:02")
        #expect(packet.option(55) == [1, 28, 3, 15, 6, 12, 42])
        #expect(try packet.getOption("hostname", convert: true) == .byteString(Array("client2".utf8)))
        #expect(packet.maximumSize == nil)
    }

    @Test func dhcpcd() throws {
        let packet = try decode("dhcpcd-discover")
        #expect(packet.isDHCPDiscoverPacket)
        #expect(try packet.hardwareAddress().description == "02:00:00:00:00:03")
        #expect(packet.option(55) == [1, 3, 28, 33, 42, 51, 58, 59])
        #expect(packet.option(12) == Array("client3".utf8))
        #expect(packet.option(60)?.starts(with: Array("dhcpcd-".utf8)) == true)
        #expect(packet.maximumSize == 1472)
        #expect(!packet.hasOption(145)) // unassigned: dropped
    }

    @Test func perfdhcpRelayed() throws {
        let packet = try decode("perfdhcp-relayed-discover")
        #expect(packet.isDHCPDiscoverPacket)
        #expect(packet.giaddr.description == "198.51.100.2" && packet.hops == 1)
        #expect(try packet.hardwareAddress().description == "02:00:00:01:00:00")
        #expect(packet.option(61) == [1, 2, 0, 0, 1, 0, 0])
        #expect(try packet.extractIPOrNone("giaddr") == IPv4(198, 51, 100, 2))
    }

    /// A realistic reply from each capture: transform, fill in, encode, decode again.
    @Test func repliesToEveryCaptureRoundTrip() throws {
        for capture in CaptureLibrary.all() {
            var reply = try DHCPPacket(decoding: capture.bytes)
            reply.transformToOffer()
            try reply.setOption("yiaddr", .text("192.0.2.10"))
            try reply.setOption(54, .text("192.0.2.1"))
            try reply.setOption(51, .integer(3600))
            try reply.setOption(1, .text("255.255.255.0"))
            try reply.setOption(3, .text("192.0.2.1"))
            try reply.setOption(42, .text("192.0.2.123"))
            let echoed = try DHCPPacket(decoding: reply.encode())
            #expect(echoed.messageType == .offer, "\(capture.name)")
            #expect(echoed.yiaddr == IPv4(192, 0, 2, 10))
            #expect(echoed.option(3) == [192, 0, 2, 1])
            #expect(echoed.hasOption(42) == (reply.selection?.contains(42) ?? true), "\(capture.name)")
            #expect(!echoed.hasOption(55) && !echoed.hasOption(61))
            #expect(reply.encode().count <= (reply.maximumSize ?? 65535))
        }
    }
}
