import DHCPWire
import Testing

@Test func ipv4ParsesLeniently() throws {
    #expect(IPv4("192.0.2.1")?.value == 0xC000_0201)
    #expect(IPv4(" 01.002.3.4 ")?.description == "1.2.3.4")
    #expect(IPv4("1.2.3.4.5")?.description == "1.2.3.4")
    #expect(IPv4("1.2.3.4.x") == nil)
    #expect(IPv4("1.2.3") == nil)
    #expect(IPv4("1.2.3.256") == nil)
    #expect(try IPv4(bytes: [192, 0, 2, 10]).description == "192.0.2.10")
    #expect(throws: WireError.self) { try IPv4(bytes: [1, 2]) }
    #expect(IPv4(192, 0, 2, 0).isSubnetMember(IPv4(192, 0, 2, 77), prefix: 24))
    #expect(!IPv4(192, 0, 2, 0).isSubnetMember(IPv4(192, 0, 3, 77), prefix: 24))
}

@Test func macAcceptsEverySpelling() throws {
    let expected = "00:11:22:33:44:aa"
    for spelling in ["00:11:22:33:44:AA", "0011.2233.44aa", "00-11-22-33-44-aa", "0011223344aa"] {
        #expect(MAC(spelling)?.description == expected)
    }
    #expect(MAC("00:11:22:33:44") == nil)
    #expect(try MAC(bytes: [0, 0x11, 0x22, 0x33, 0x44, 0xaa]).description == expected)
}

@Test func addressTextCoversEveryOctetWidth() {
    // The descriptions are written byte by byte; check one- two- and three-digit octets and the ends.
    #expect(IPv4(0).description == "0.0.0.0")
    #expect(IPv4(0xFFFF_FFFF).description == "255.255.255.255")
    #expect(IPv4(10, 0, 100, 9).description == "10.0.100.9")
    #expect(IPv4(203, 0, 113, 199).description == "203.0.113.199")
    for value in stride(from: UInt32(0), through: 255, by: 1) {
        #expect(IPv4(value << 24 | value).description == "\(value).0.0.\(value)")
    }
    #expect(MAC(0).description == "00:00:00:00:00:00")
    #expect(MAC(0xFFFF_FFFF_FFFF).description == "ff:ff:ff:ff:ff:ff")
    #expect(MAC(0x0A1B_2C3D_4E5F).description == "0a:1b:2c:3d:4e:5f")
}

@Test func macTextOnTheStackIsTheDescription() {
    // A SQLite lookup binds this buffer instead of `description`; both must spell the same key.
    for value: UInt64 in [0, 0xFFFF_FFFF_FFFF, 0x0A1B_2C3D_4E5F, 0x0200_0001_2710] {
        let mac = MAC(value)
        #expect(mac.withText { String(decoding: $0, as: UTF8.self) } == mac.description)
        #expect(mac.withText { $0.count } == MAC.textLength)
    }
}
