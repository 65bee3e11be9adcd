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
