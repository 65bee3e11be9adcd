@testable import DHCPWire
import Testing

/// Option 52 on input (RFC 2131 §4.1): options in `file` (bit 1) then `sname` (bit 2) are read,
/// with the same lenient rule as the options area (docs/PROTOCOL.md §6 items 17 and 18).
@Suite struct OverloadDecodingTests {
    /// A request header whose `sname` and `file` hold the given option bytes.
    func packet(options: String, sname: [UInt8] = [], file: [UInt8] = []) throws -> DHCPPacket {
        var header = vectorHeader()
        header.replaceSubrange(44..<(44 + sname.count), with: sname)
        header.replaceSubrange(108..<(108 + file.count), with: file)
        return try DHCPPacket(decoding: header + hex("63825363" + options))
    }

    @Test func fileAndSnameOptionsAreRead() throws {
        let decoded = try packet(options: "350101 340103 ff",
                                 sname: hex("0c03 616263 ff"), file: hex("3d0701001122334455 ff"))
        #expect(decoded.messageType == .discover)
        #expect(decoded.option(12) == Array("abc".utf8))
        #expect(decoded.option(61) == [1, 0, 0x11, 0x22, 0x33, 0x44, 0x55])
        #expect(decoded.truncatedOption == nil)
        // The fields held options, not names: they read as empty and are not echoed in a reply.
        #expect(decoded.sname.allSatisfy { $0 == 0 } && decoded.file.allSatisfy { $0 == 0 })
    }

    @Test func onlyTheNamedFieldIsRead() throws {
        let decoded = try packet(options: "350101 340101", sname: Array("server1".utf8), file: hex("0c0161 ff"))
        #expect(decoded.option(12) == [0x61])
        #expect(Array(decoded.sname.prefix(7)) == Array("server1".utf8))
        #expect(try packet(options: "350101", file: hex("0c0161 ff")).hasOption(12) == false)
    }

    @Test func fileComesBeforeSnameWhenACodeRepeats() throws {
        // RFC 3396: a code split across areas is joined in the order options, file, sname.
        let decoded = try packet(options: "350101 340103 0c0161", sname: hex("0c0163 ff"), file: hex("0c0162 ff"))
        #expect(decoded.option(12) == Array("abc".utf8))
    }

    @Test func truncatedOptionInAFieldIsIgnored() throws {
        // sname's last option claims 9 bytes where 2 of the field remain.
        var sname = [UInt8](repeating: 0, count: 64)
        sname.replaceSubrange(0..<3, with: hex("0c0161"))
        sname.replaceSubrange(60..<64, with: hex("0f09 6162"))
        let decoded = try packet(options: "350101 340102", sname: sname)
        #expect(decoded.option(12) == [0x61])
        #expect(!decoded.hasOption(15))
        #expect(decoded.truncatedOption == TruncatedOption(code: 15, offset: 104, declaredLength: 9, remaining: 2, area: .sname))
        #expect(decoded.truncatedOption?.description.contains("of sname (overload)") == true)
    }

    @Test func overloadInsideAFieldIsNotHonoured() throws {
        // file says "sname too", but only the options area may carry option 52.
        let decoded = try packet(options: "350101 340101", sname: hex("0c0161 ff"), file: hex("340102 ff"))
        #expect(!decoded.hasOption(12))
        #expect(decoded.option(52) == [1])
    }
}
