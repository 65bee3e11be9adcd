import DHCPWire
import Testing

@Suite struct ConversionTests {
    @Test func numbers() throws {
        #expect(try Conversions.listToNumber([1, 2, 3, 4, 5]) == 4_328_719_365)
        #expect(try Conversions.listToNumber([]) == 0)
        #expect(throws: WireError.self) { try Conversions.listToNumber([UInt8](repeating: 1, count: 9)) }
        #expect(Conversions.listToInt([1]) == 1)
        #expect(Conversions.listToInt([1, 2, 3]) == 258)
        #expect(Conversions.listToInt([127, 10]) == 32522)
        #expect(Conversions.listToInts([127, 10, 127, 9]) == [32522, 32521])
        #expect(Conversions.listToInts([127, 10, 1]) == [32522])
        #expect(Conversions.listToLong([1, 2]) == 258)
        #expect(Conversions.listToLong([16, 23, 127, 10]) == 269_975_306)
        #expect(Conversions.listToLongs([0, 0, 1, 0, 0, 0, 0, 2, 9]) == [256, 2])
        #expect(Conversions.intToList(65541) == [0, 5])
        #expect(Conversions.intToList(-1) == [255, 255])
        #expect(Conversions.intsToList([1, 256]) == [0, 1, 1, 0])
        #expect(Conversions.longToList(4_294_967_297) == [0, 0, 0, 1])
        #expect(Conversions.longToList(-2) == [255, 255, 255, 254])
        #expect(Conversions.longsToList([1, 2]) == [0, 0, 0, 1, 0, 0, 0, 2])
    }

    @Test func strings() throws {
        #expect(try Conversions.listToStr([104, 101, 108, 108, 111]) == Array("hello".utf8))
        #expect(throws: WireError.self) { try Conversions.listToStr([256]) }
        #expect(throws: WireError.self) { try Conversions.listToStr([-1]) }
        #expect(Conversions.strToList("hé") == [104, 195, 169])
        #expect(try Conversions.strToPaddedList("hello", 7) == [104, 101, 108, 108, 111, 0, 0])
        #expect(try Conversions.strToPaddedList("hello", 3) == [104, 101, 108])
        #expect(throws: WireError.self) { try Conversions.strToPaddedList("x", -1) }
    }

    @Test func addresses() throws {
        #expect(try Conversions.listToIP([192, 0, 2, 1, 9]) == IPv4(192, 0, 2, 1))
        #expect(throws: WireError.self) { try Conversions.listToIP([1, 2, 3]) }
        #expect(Conversions.listToIPs([192, 0, 2, 1, 192, 0, 2, 2, 7]) == [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)])
        #expect(try Conversions.ipToList("192.0.2.1") == [192, 0, 2, 1])
        #expect(throws: WireError.self) { try Conversions.ipToList("192.0.2") }
        #expect(try Conversions.ipsToList("192.0.2.1, 198.51.100.2") == [192, 0, 2, 1, 198, 51, 100, 2])
        #expect(throws: WireError.self) { try Conversions.ipsToList("") }
        #expect(throws: WireError.self) { try Conversions.ipsToList("192.0.2.1,") }
        #expect(Conversions.ipsToList([IPv4(192, 0, 2, 1)]) == [192, 0, 2, 1])
        #expect(Conversions.ipsToList([IPv4]()) == [])
    }
}

@Suite struct RFCTests {
    static let twoNames = hex("07 65 78 61 6d 70 6c 65 03 6f 72 67 00 04 75 67 75 75 02 63 61 00")

    @Test func decoders() throws {
        let relay: [UInt8] = [1, 3, 65, 66, 67, 2, 2, 1, 2]
        #expect(try RFC.rfc3046_decode(relay) == [1: [65, 66, 67], 2: [1, 2]])
        #expect(relay == [1, 3, 65, 66, 67, 2, 2, 1, 2])
        #expect(try RFC.rfc3046_decode([1, 5, 1, 2]) == [1: [1, 2]])
        #expect(try RFC.rfc3046_decode([1, 1, 7, 1, 1, 8]) == [1: [8]])
        #expect(throws: WireError.self) { try RFC.rfc3046_decode([1, 1, 7, 2]) }
        #expect(try RFC.rfc3925_decode([0, 0, 0, 9, 3, 1, 2, 3, 0, 0, 1, 0, 0]) == [9: [1, 2, 3], 256: []])
        #expect(throws: WireError.self) { try RFC.rfc3925_decode([0, 0, 0, 9]) }
        #expect(try RFC.rfc3925_125_decode([0, 0, 0, 9, 5, 1, 3, 7, 8, 9]) == [9: [1: [7, 8, 9]]])
        #expect(try RFC.rfc3925_125_decode([0, 0, 0, 10, 4, 2, 0, 3, 1]) == [10: [2: [], 3: []]])
    }

    @Test func nameEncoders() throws {
        #expect(try RFC.rfc1035_plus("example.org, uguu.ca").bytes == Self.twoNames)
        #expect(try RFC.rfc1035_plus(" , ").bytes == [])
        #expect(try RFC.rfc3397_119("example.org,uguu.ca").bytes == Self.twoNames)
        #expect(try RFC.rfc4280_88("example.org").bytes == hex("07 65 78 61 6d 70 6c 65 03 6f 72 67 00"))
        #expect(try RFC.rfc5223_137("uguu.ca").bytes == hex("04 75 67 75 75 02 63 61 00"))
        #expect(try RFC.rfc1035_plus("example.org.").bytes.suffix(2) == [0, 0])
        #expect(throws: WireError.self) { try RFC.rfc1035_plus(String(repeating: "a", count: 64) + ".org") }
    }

    @Test func otherEncoders() throws {
        #expect(try RFC.rfc2610_78(mandatory: true, "192.168.1.1, 192.168.1.2").bytes == hex("01 c0 a8 01 01 c0 a8 01 02"))
        #expect(RFC.rfc2610_79(mandatory: false, "default").bytes == hex("00 64 65 66 61 75 6c 74"))
        #expect(RFC.rfc2610_79(mandatory: true, "").bytes == [1])
        #expect(try RFC.rfc3361_120("192.168.1.1,10.0.0.1").bytes == hex("01 c0 a8 01 01 0a 00 00 01"))
        #expect(try RFC.rfc3361_120("example.org,uguu.ca").bytes == [0] + Self.twoNames)
        #expect(throws: WireError.self) { try RFC.rfc3361_120("example.org,10.0.0.1") }
        #expect(throws: WireError.self) { try RFC.rfc3361_120("") }
        let routes = try RFC.rfc3442_121([
            (IPv4.parse("0.0.0.0"), 0, IPv4.parse("192.168.0.1")),
            (IPv4.parse("10.0.0.0"), 8, IPv4.parse("192.168.0.254")),
            (IPv4.parse("192.168.100.0"), 22, IPv4.parse("192.168.0.2")),
            (IPv4.parse("169.254.0.0"), 16, IPv4.parse("0.0.0.0")),
        ])
        #expect(routes.bytes == hex("00 c0a80001 08 0a c0a800fe 16 c0a864 c0a80002 10 a9fe 00000000"))
        #expect(routes.bytes.count == 26)
        let hosts = try RFC.rfc3442_121([(IPv4.parse("10.1.2.3"), 32, IPv4.parse("10.0.0.1")),
                                         (IPv4.parse("10.1.2.3"), 25, IPv4.parse("10.0.0.1"))])
        #expect(hosts.bytes == hex("20 0a010203 0a000001 19 0a010203 0a000001"))
        #expect(throws: WireError.self) { try RFC.rfc3442_121([(IPv4.zero, 33, IPv4.zero)]) }
        #expect(try RFC.rfc3925_124([1: Array("hello".utf8)]).bytes == hex("00 00 00 01 05 68 65 6c 6c 6f"))
        #expect(try RFC.rfc3925_125([1: [45: Array("hello".utf8)]]).bytes == hex("00 00 00 01 07 2d 05 68 65 6c 6c 6f"))
        #expect(throws: WireError.self) { try RFC.rfc3925_124([1: [UInt8](repeating: 0, count: 256)]) }
        let isns = try RFC.rfc4174_83(isnsFunctions: 7, ddAccess: 63, adminFlags: 15, isnsSecurity: 127,
                                      "192.168.1.1,192.168.1.2,192.168.1.3")
        #expect(isns.bytes == hex("0007 003f 000f 0000007f c0a80101 c0a80102 c0a80103"))
    }

    /// RFC 5678 requires a length byte per sub-option; the original left it out. We write it.
    @Test func mobilityServicesCarryTheSubOptionLength() throws {
        let addresses = try RFC.rfc5678_139([(1, "127.0.0.1,192.168.1.1"), (2, "10.0.0.1")])
        #expect(addresses.bytes == hex("01 08 7f000001 c0a80101 02 04 0a000001"))
        let names = try RFC.rfc5678_140([(1, "example.org"), (2, "uguu.ca")])
        #expect(names.bytes == hex("01 0d 07 65 78 61 6d 70 6c 65 03 6f 72 67 00 02 09 04 75 67 75 75 02 63 61 00"))
    }
}
