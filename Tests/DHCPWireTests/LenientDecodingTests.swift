@testable import DHCPWire
import Testing

/// A datagram cut off inside its last option is decoded without that option, as the original and
/// Kea do (docs/PROTOCOL.md §6 item 17); garbage with no header or cookie is still refused.
@Suite struct LenientDecodingTests {
    /// DISCOVER, client identifier, then option 12 claiming 200 bytes with 5 left and no END.
    static let overlongHostname = vectorHeader() + hex("63825363 350101 3d0701001122334455 0cc8 6869686968")

    @Test func optionLongerThanTheRestIsIgnored() throws {
        let packet = try DHCPPacket(decoding: Self.overlongHostname)
        #expect(packet.messageType == .discover)
        #expect(packet.option(61) == [1, 0, 0x11, 0x22, 0x33, 0x44, 0x55])
        #expect(!packet.hasOption(12))
        #expect(packet.truncatedOption == TruncatedOption(code: 12, offset: 252, declaredLength: 200, remaining: 5, area: .options))
        #expect(packet.truncatedOption?.description == "option 12 at offset 252 declares 200 bytes but only 5 remain; ignored")
        #expect(packet.requestMethod(sourceIP: .zero) == .discover)
    }

    @Test func loneTrailingCodeByteIsIgnored() throws {
        let packet = try DHCPPacket(decoding: vectorHeader() + hex("63825363 350101 37020103 0c"))
        #expect(packet.messageType == .discover)
        #expect(packet.option(55) == [1, 3])
        #expect(packet.truncatedOption == TruncatedOption(code: 12, offset: 247, declaredLength: nil, remaining: 0, area: .options))
    }

    @Test func cutInsideAnOptionWithNoEnd() throws {
        // The client identifier declares 7 bytes; the datagram ends after 2 of them.
        let packet = try DHCPPacket(decoding: vectorHeader() + hex("63825363 350103 3204c0000201 3d070100"))
        #expect(packet.messageType == .request)
        #expect(packet.option(50) != nil)
        #expect(!packet.hasOption(61))
        #expect(packet.truncatedOption?.code == 61)
    }

    @Test func truncatedMessageTypeLeavesNoMethod() throws {
        // Option 53 itself cut off: decoded, but nothing says what the client wants, so no answer.
        let packet = try DHCPPacket(decoding: vectorHeader() + hex("63825363 3d0701001122334455 3501"))
        #expect(packet.messageType == nil)
        #expect(packet.requestMethod(sourceIP: .zero) == nil)
        #expect(packet.truncatedOption?.code == 53)
    }

    @Test func completePacketsCarryNoNote() throws {
        #expect(try DHCPPacket(decoding: MalformedTests.valid).truncatedOption == nil)
        #expect(try DHCPPacket(decoding: vectorHeader() + hex("63825363 350101")).truncatedOption == nil)
        for capture in CaptureLibrary.all() {
            #expect(try DHCPPacket(decoding: capture.bytes).truncatedOption == nil, "\(capture.name)")
        }
    }

    @Test func truncationDoesNotChangeEquality() throws {
        let cut = try DHCPPacket(decoding: vectorHeader() + hex("63825363 350101 0cc8 68"))
        let whole = try DHCPPacket(decoding: vectorHeader() + hex("63825363 350101 ff"))
        #expect(cut == whole)
        #expect(cut.truncatedOption != nil && whole.truncatedOption == nil)
    }

    @Test func garbageIsStillRefused() {
        for bytes in [[UInt8](repeating: 0xAB, count: 300), Array(MalformedTests.valid.prefix(239)), []] {
            #expect(throws: WireError.self) { try DHCPPacket(decoding: bytes) }
        }
        #expect(throws: WireError.self) { try DHCPPacket(decoding: vectorHeader() + hex("63825363 3500 0cc8")) }
    }

    @Test func truncatedPacketsRoundTrip() throws {
        let packet = try DHCPPacket(decoding: Self.overlongHostname)
        let again = try DHCPPacket(decoding: packet.encode())
        #expect(again.truncatedOption == nil)
        #expect(again.option(61) == packet.option(61) && again.messageType == .discover)
    }
}

/// The crafted seeds of the fuzz corpus (Crafted/README.md) decode as that file describes.
@Suite struct CraftedPacketTests {
    func decode(_ name: String) throws -> DHCPPacket {
        let bytes = try #require(CaptureLibrary.crafted().first { $0.name == name }?.bytes, "Crafted/\(name).hex")
        return try DHCPPacket(decoding: bytes)
    }

    @Test func truncatedHostname() throws {
        let packet = try decode("truncated-hostname-discover")
        #expect(packet.messageType == .discover && !packet.hasOption(12))
        #expect(packet.truncatedOption?.declaredLength == 200)
    }

    @Test func loneCodeByte() throws {
        let packet = try decode("lone-code-byte-discover")
        #expect(packet.messageType == .discover && packet.option(55) == [1, 3, 6, 15])
        #expect(packet.truncatedOption?.declaredLength == nil && packet.truncatedOption?.code == 12)
    }

    @Test func overloadWithTruncatedSname() throws {
        let packet = try decode("overload-truncated-sname-discover")
        #expect(packet.messageType == .discover)
        #expect(packet.option(61) == [1, 2, 0x18, 0, 0, 0, 1])
        #expect(packet.option(12) == Array("client4".utf8))
        #expect(!packet.hasOption(15))
        #expect(packet.truncatedOption?.area == .sname)
    }
}
