import DHCPWire
import Testing

@Suite struct MalformedTests {
    static let valid = vectorHeader() + hex("63825363 350101 3d0701001122334455 37040103060f ff")

    func rejects(_ bytes: [UInt8], mentioning fragment: String) {
        do {
            _ = try DHCPPacket(decoding: bytes)
            Issue.record("decoded \(bytes.count) malformed bytes without error")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test func shortInputs() {
        rejects([], mentioning: "shorter than")
        rejects([UInt8](repeating: 0, count: 239), mentioning: "shorter than")
        rejects(Array(Self.valid.prefix(239)), mentioning: "shorter than")
    }

    @Test func missingCookie() {
        rejects([UInt8](repeating: 0, count: 300), mentioning: "cookie")
        var broken = Self.valid
        broken[238] = 0
        rejects(broken, mentioning: "cookie")
    }

    @Test func hardwareLengthAbove16() {
        var broken = Self.valid
        broken[2] = 17
        rejects(broken, mentioning: "hlen is 17")
    }

    @Test func emptyMessageType() {
        rejects(vectorHeader() + hex("63825363 3500 ff"), mentioning: "option 53")
    }

    @Test func tolerated() throws {
        // A late cookie, padding, no END, bytes after END, unassigned codes and repeated codes.
        let late = vectorHeader() + hex("00000000 63825363 00 350101 5401ff 0c0161 0c0162")
        let packet = try DHCPPacket(decoding: late)
        #expect(packet.messageType == .discover)
        #expect(!packet.hasOption(84))
        #expect(packet.option(12) == Array("ab".utf8))
        #expect(try DHCPPacket(decoding: Self.valid + [1, 2, 3]).hasOption(55))
        #expect(try DHCPPacket(decoding: vectorHeader() + hex("63825363")).storedCodes.isEmpty)
        // The UnsafeRawBufferPointer entry point and a non-contiguous collection agree.
        let viaPointer = try Self.valid.withUnsafeBytes { try DHCPPacket(decoding: $0) }
        let viaSequence = try DHCPPacket(decoding: Self.valid.reversed().reversed())
        #expect(viaPointer == viaSequence)
    }

    @Test func maximumSizeRules() throws {
        func size(_ options: String) throws -> Int? {
            try DHCPPacket(decoding: vectorHeader() + hex("63825363 350101" + options + "ff")).maximumSize
        }
        #expect(try size("") == nil)
        #expect(try size("39020240") == 576)
        #expect(try size("160205dc 39020240") == 576)
        #expect(try size("160205dc 39020000") == 1500)
        #expect(try size("390105") == 5)
    }

    /// One million mutations of real packets (bit flips, truncations, insertions, overwrites): every
    /// one either decodes (and one in eight is then encoded and re-decoded) or throws a `WireError`.
    @Test func millionMutatedPacketsNeverCrash() throws {
        let seeds = [Self.valid] + (CaptureLibrary.all() + CaptureLibrary.crafted()).map(\.bytes)
        var random = SplitMix64(seed: 0x5EED)
        var decoded = 0
        var rejected = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(2048)
        for _ in 0..<1_000_000 {
            let seed = seeds[Int(random.next() % UInt64(seeds.count))]
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: seed)
            for _ in 0...(random.next() % 4) {
                let position = Int(random.next() % UInt64(max(buffer.count, 1)))
                switch random.next() % 5 {
                case 0 where !buffer.isEmpty: buffer[position] ^= UInt8(1 << (random.next() % 8))
                case 1: buffer.removeLast(Int(random.next() % UInt64(buffer.count + 1)) / 4)
                case 2: buffer.insert(UInt8(truncatingIfNeeded: random.next()), at: min(position, buffer.count))
                case 3 where !buffer.isEmpty: buffer[position] = UInt8(truncatingIfNeeded: random.next())
                default: if buffer.count > 240 { buffer[240 + position % (buffer.count - 240)] = 0xFF }
                }
            }
            do {
                let packet = try buffer.withUnsafeBytes { try DHCPPacket(decoding: $0) }
                decoded += 1
                // Round-trip one in eight (encoding is the slower half in a debug build).
                guard decoded % 8 == 0 else { continue }
                let again = try DHCPPacket(decoding: packet.encode())
                if packet.option(53)?.count == 1, again.messageType != packet.messageType { Issue.record("re-decode changed the message type: \(hexString(buffer))") }
            } catch {
                rejected += 1 // typed throws: error is a WireError by construction
            }
        }
        #expect(decoded + rejected == 1_000_000)
        #expect(decoded > 100_000 && rejected > 100_000)
    }
}

/// A small, fast, deterministic generator for the mutation test.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
