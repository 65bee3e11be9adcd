import DHCPModel
import DHCPWire
import Testing
@testable import DHCPNetwork

@Suite struct EthernetFrameTests {
    /// A blank reply whose frame the original built byte for byte: op 2, htype 1, hlen 6, chaddr 00:11:22:33:44:55, option 53 = [2].
    static let vectorPayload: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 240)
        bytes[0] = 2
        bytes[1] = 1
        bytes[2] = 6
        bytes.replaceSubrange(28..<34, with: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55])
        bytes.replaceSubrange(236..<240, with: [99, 130, 83, 99])
        return bytes + [0x35, 0x01, 0x02, 0xFF, 0x00, 0x00, 0x00]
    }()

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    func vectorFrame(qtags: [QTag] = []) throws -> [UInt8] {
        try EthernetFrame.build(
            destinationMAC: MAC(0x0011_2233_4455), sourceMAC: MAC(0x0200_0000_0001), qtags: qtags,
            sourceIP: IPv4(10, 0, 0, 1), destinationIP: IPv4(10, 0, 0, 50), sourcePort: 67, destinationPort: 68,
            payload: Self.vectorPayload
        )
    }

    @Test func specVectorByteForByte() throws {
        let frame = try vectorFrame()
        #expect(Self.vectorPayload.count == 247)
        #expect(frame.count == 289)
        let head = Self.hex("001122334455 020000000001 0800 4500 0113 0000 4000 80 11 e5a7 0a000001 0a000032 0043 0044 00ff 8bb6")
        #expect(Array(frame.prefix(head.count)) == head)
        #expect(Array(frame.suffix(247)) == Self.vectorPayload)
    }

    @Test func qtagsAreInsertedOutermostFirstBeforeTheEtherType() throws {
        let tags = [try #require(QTag(pcp: 5, dei: true, vid: 100)), try #require(QTag(pcp: 0, dei: false, vid: 4094))]
        let frame = try vectorFrame(qtags: tags)
        #expect(frame.count == 289 + 8)
        // 5 << 13 | 1 << 12 | 100 = 0xB064; 4094 = 0x0FFE
        #expect(Array(frame[12..<22]) == [0x81, 0x00, 0xB0, 0x64, 0x81, 0x00, 0x0F, 0xFE, 0x08, 0x00])
        // Everything after the tags is the untagged frame's IP packet.
        #expect(Array(frame[22...]) == Array(try vectorFrame()[14...]))
    }

    @Test func ipHeaderChecksumVerifiesToZero() throws {
        let frame = try vectorFrame()
        #expect(InternetChecksum.checksum(frame[14..<34]) == 0)
    }

    /// Verifies a UDP checksum the way a receiver does: the sum over pseudo-header and segment is 0xFFFF.
    func udpVerifies(_ frame: [UInt8], ipStart: Int = 14) -> Bool {
        let udp = Array(frame[(ipStart + 20)...])
        let pseudo = Array(frame[(ipStart + 12)..<(ipStart + 20)]) + [0, 0x11, UInt8(udp.count >> 8), UInt8(udp.count & 0xFF)]
        return InternetChecksum.sum(udp, initial: InternetChecksum.sum(pseudo)) == 0xFFFF
    }

    @Test func udpChecksumIsCorrectForOddAndEvenPayloads() throws {
        for length in [1, 2, 3, 247, 300, 301, 561, 1001] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let frame = try EthernetFrame.build(
                destinationMAC: MAC(0x0200_0000_0002), sourceMAC: MAC(0x0200_0000_0001),
                sourceIP: IPv4(192, 0, 2, 1), destinationIP: IPv4(192, 0, 2, 50), sourcePort: 67, destinationPort: 68,
                payload: payload)
            #expect(udpVerifies(frame), "UDP checksum wrong for a \(length)-byte payload")
            #expect(frame.count == 14 + 28 + length)
        }
    }

    @Test func oddLengthChecksumPadsTheLastByteWithZero() {
        #expect(InternetChecksum.sum([0x12, 0x34, 0x56]) == 0x1234 + 0x5600)
        #expect(InternetChecksum.sum([0xFF, 0xFF, 0xFF, 0xFF]) == 0xFFFF)
        #expect(InternetChecksum.checksum([0x00, 0x01, 0xF2]) == ~UInt16(0x0001 + 0xF200))
        #expect(InternetChecksum.checksum([UInt8]()) == 0xFFFF)
    }

    @Test func dontFragmentOnlyUpTo560Bytes() throws {
        func flags(_ length: Int) throws -> [UInt8] {
            let frame = try EthernetFrame.build(
                destinationMAC: MAC(1), sourceMAC: MAC(2), sourceIP: IPv4(192, 0, 2, 1), destinationIP: IPv4(192, 0, 2, 2),
                sourcePort: 67, destinationPort: 68, payload: [UInt8](repeating: 0, count: length))
            return Array(frame[20..<22])
        }
        #expect(try flags(560) == [0x40, 0x00])
        #expect(try flags(561) == [0x00, 0x00])
    }

    @Test func oversizedPayloadThrows() {
        #expect(throws: NetworkError.self) {
            try EthernetFrame.build(
                destinationMAC: MAC(1), sourceMAC: MAC(2), sourceIP: IPv4(192, 0, 2, 1), destinationIP: IPv4(192, 0, 2, 2),
                sourcePort: 67, destinationPort: 68, payload: [UInt8](repeating: 0, count: 70_000))
        }
    }
}
