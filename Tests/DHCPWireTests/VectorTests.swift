import DHCPWire
import Testing

@Suite struct VectorTests {
    @Test func vectorADiscoverToOffer() throws {
        let request = vectorHeader() + hex("63825363 350101 3d0701001122334455 3204c0a80064 0c04686f7374 37040103060f 39020240 ff")
        #expect(request.count == 275)
        var packet = try DHCPPacket(decoding: request)
        #expect(packet.messageType == .discover)
        #expect(packet.option(61) == [1, 0, 0x11, 0x22, 0x33, 0x44, 0x55])
        #expect(packet.option(12) == Array("host".utf8))
        #expect(packet.selectedOptions == [1, 3, 6, 15, 51, 53, 54, 58, 59])
        #expect(packet.maximumSize == 576)

        packet.transformToOffer()
        try packet.setOption("yiaddr", .text("192.168.0.100"))
        try packet.setOption(51, .integer(3600))
        try packet.setOption(1, .text("255.255.255.0"))
        try packet.setOption(3, .text("192.168.0.1"))
        try packet.setOption(54, .text("192.168.0.1"))
        try packet.setOption(6, .text("8.8.8.8,8.8.4.4"))
        try packet.setOption(42, .text("192.168.0.2"))
        let output = packet.encode()
        #expect(output.count == 281)
        #expect(hexString(output[0..<44]) == "020106003903f32600000000" + "00000000c0a800640000000000000000" + "001122334455" + "00000000000000000000")
        #expect(output[44..<236].allSatisfy { $0 == 0 })
        #expect(hexString(output[236...]) == "63825363" + "350102" + "3604c0a80001" + "330400000e10" + "0104ffffff00"
            + "0304c0a80001" + "0608" + "08080808" + "08080404" + "ff000000")
        #expect(packet.hasOption(12) && packet.hasOption(42))
        // Re-decoding the reply gives the same options back.
        let reply = try DHCPPacket(decoding: output)
        #expect(reply.option(6) == [8, 8, 8, 8, 8, 8, 4, 4])
        #expect(reply.messageType == .offer)
    }

    @Test func vectorA2RequestWithoutParameterListEchoesEverything() throws {
        let request = vectorHeader() + hex("63825363 350103 3604c0a80001 3204c0a80064 0c04686f7374 ff")
        var packet = try DHCPPacket(decoding: request)
        #expect(packet.selectedOptions == nil)
        packet.transformToAck()
        try packet.setOption("yiaddr", .text("192.168.0.100"))
        try packet.setOption(51, .integer(3600))
        try packet.setOption(54, .text("192.168.0.1"))
        let output = packet.encode()
        #expect(output.count == 265)
        #expect(hexString(output[236...]) == "63825363350105" + "3604c0a80001" + "330400000e10" + "0c04686f7374" + "ff000000")
    }

    /// Vector B: the original dropped every option after an oversized one and left lone ENDs in
    /// sname and file. We account the budget cumulatively: 12 (302 bytes) cannot fit anywhere and is
    /// dropped, but 15 and 17 still fit the options area, and sname/file stay untouched (no option 52).
    @Test func vectorBOversizedOptionIsDroppedAloneAndTheRestFits() throws {
        let request = vectorHeader() + hex("63825363 350103 39020240 ff")
        var packet = try DHCPPacket(decoding: request)
        #expect(packet.maximumSize == 576)
        packet.transformToAck()
        try packet.setOption(54, .text("10.0.0.1"))
        try packet.setOption(12, .bytes([UInt8](repeating: 0x79, count: 300)))
        try packet.setOption(15, .text("dom.example"))
        try packet.setOption(17, .bytes([UInt8](repeating: 0x72, count: 100)))
        let output = packet.encode()
        let expectedOptions = hex("350105 36040a000001") + [15, 11] + Array("dom.example".utf8) + [17, 100]
            + [UInt8](repeating: 0x72, count: 100) + hex("ff000000")
        #expect(Array(output[240...]) == expectedOptions)
        #expect(output[44..<236].allSatisfy { $0 == 0 })
        #expect(output.count <= 576 - 68)
    }

    /// Options that do not fit the options area go into sname then file, each whole and with END.
    @Test func overloadPacksLeftoversIntoSnameThenFile() throws {
        var packet = DHCPPacket()
        packet.maximumSize = 576            // options area budget: 576 - 240 - 68 - 3 - 1 = 264
        try packet.setOption(53, .integer(5))
        try packet.setOption(12, .bytes([UInt8](repeating: 0x61, count: 250)))   // 252 bytes: main area
        try packet.setOption(14, .bytes([UInt8](repeating: 0x62, count: 50)))    // 52 bytes: sname
        try packet.setOption(17, .bytes([UInt8](repeating: 0x63, count: 100)))   // 102 bytes: file
        let output = packet.encode()
        #expect(output.count <= 576 - 68)
        #expect(Array(output[44..<97]) == [14, 50] + [UInt8](repeating: 0x62, count: 50) + [255])
        #expect(Array(output[108..<211]) == [17, 100] + [UInt8](repeating: 0x63, count: 100) + [255])
        #expect(Array(output.suffix(4)) == [0x34, 0x01, 0x03, 0xFF])
        // Decoding honours overload (OverloadDecodingTests): all three come back.
        let reread = try DHCPPacket(decoding: output)
        #expect(reread.option(52) == [3])
        #expect(reread.option(12)?.count == 250)
        #expect(reread.option(14) == [UInt8](repeating: 0x62, count: 50))
        #expect(reread.option(17) == [UInt8](repeating: 0x63, count: 100))
    }

    @Test func overloadSkipsAFieldThatIsInUse() throws {
        var packet = DHCPPacket()
        packet.maximumSize = 576
        try packet.setOption("sname", .text("server"))
        try packet.setOption(12, .bytes([UInt8](repeating: 0x61, count: 250)))
        try packet.setOption(14, .bytes([UInt8](repeating: 0x62, count: 50)))
        let output = packet.encode()
        #expect(Array(output[44..<50]) == Array("server".utf8))
        #expect(Array(output[108..<161]) == [14, 50] + [UInt8](repeating: 0x62, count: 50) + [255])
        #expect(Array(output.suffix(4)) == [0x34, 0x01, 0x01, 0xFF])
    }

    @Test func vectorCLongOptionIsSplit() throws {
        var packet = DHCPPacket()
        try packet.setOption(12, .bytes([UInt8](repeating: 0x7A, count: 600)))
        let output = packet.encode()
        #expect(output.count == 850)
        let z = [UInt8](repeating: 0x7A, count: 255)
        let expected = [12, 255] + z + [12, 255] + z + [12, 90] + [UInt8](repeating: 0x7A, count: 90) + [255, 0, 0, 0]
        #expect(Array(output[240...]) == expected)
        // Decoding concatenates the chunks again (RFC 3396).
        #expect(try DHCPPacket(decoding: output).option(12)?.count == 600)
    }

    @Test func blankPacketAndEmptyOption() throws {
        var packet = DHCPPacket()
        #expect(packet.encode() == [UInt8](repeating: 0, count: 236) + hex("63825363 ff000000"))
        try packet.setOption(80, .bool(true))
        #expect(Array(packet.encode()[240...]) == hex("5000 ff000000"))
    }

    @Test func orderingIs53_54_51ThenAscending() throws {
        var packet = DHCPPacket()
        try packet.setOption(6, .text("192.0.2.53"))
        try packet.setOption(51, .integer(60))
        try packet.setOption(1, .text("255.255.255.0"))
        try packet.setOption(54, .text("192.0.2.1"))
        try packet.setOption(53, .integer(2))
        let codes = optionCodes(packet.encode())
        #expect(codes == [53, 54, 51, 1, 6])
    }

    @Test func encodeIntoReusesTheBuffer() throws {
        var packet = DHCPPacket()
        try packet.setOption(53, .integer(1))
        var buffer = [UInt8](repeating: 9, count: 1000)
        packet.encode(into: &buffer)
        #expect(buffer == packet.encode())
    }

    @Test func roundTripKeepsEverything() throws {
        var packet = DHCPPacket()
        packet.op = 1; packet.htype = 1; packet.hlen = 6; packet.hops = 2
        packet.xid = 0xDEADBEEF; packet.secs = 7; packet.flags = 0x8000
        packet.ciaddr = IPv4(192, 0, 2, 1); packet.yiaddr = IPv4(192, 0, 2, 2)
        packet.siaddr = IPv4(192, 0, 2, 3); packet.giaddr = IPv4(198, 51, 100, 1)
        packet.setHardwareAddress(MAC("02:00:00:00:00:01")!)
        try packet.setOption(53, .integer(3))
        try packet.setOption(82, .list([1, 2, 65, 66].map { .integer($0) }))
        try packet.setOption(12, .text("client"))
        #expect(throws: WireError.self) { try packet.setOption(230, .list([.integer(1)])) } // reserved
        let decoded = try DHCPPacket(decoding: packet.encode())
        #expect(decoded == packet)
        #expect(decoded.xid == 0xDEADBEEF && decoded.secs == 7 && decoded.isBroadcast && decoded.hops == 2)
        #expect(decoded.giaddr.description == "198.51.100.1")
        #expect(try decoded.hardwareAddress().description == "02:00:00:00:00:01")
        #expect(decoded.encode() == packet.encode())
        // Reserved codes survive decoding and are echoed.
        let withReserved = Array(packet.encode().dropLast(4)) + [230, 2, 7, 8, 255]
        let echoed = try DHCPPacket(decoding: withReserved)
        #expect(echoed.option(230) == [7, 8])
        #expect(try DHCPPacket(decoding: echoed.encode()).option(230) == [7, 8])
    }

    func optionCodes(_ datagram: [UInt8]) -> [UInt8] {
        var codes: [UInt8] = []
        var index = 240
        while index < datagram.count, datagram[index] != 255 {
            codes.append(datagram[index])
            index += 2 + Int(datagram[index + 1])
        }
        return codes
    }
}
