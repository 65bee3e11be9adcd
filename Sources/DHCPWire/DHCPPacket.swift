/// A DHCPv4 packet: the 240-byte BOOTP header (cookie included) and the stored options.
///
/// Storage is one byte array, so decoding costs a single allocation: bytes 0..<240 are the header
/// exactly as on the wire, followed by one record per stored option, `code, lengthHigh, lengthLow,
/// value...`, in arrival or insertion order. Options are looked up by a short linear walk over the
/// records (a packet holds a few dozen at most), and the encoder orders them itself (`PacketEncoding.swift`).
public struct DHCPPacket: Sendable, Equatable {
    /// Header bytes followed by option records; see the type's comment.
    @usableFromInline var storage: [UInt8]

    /// Codes forced into every selection set built from option 55 (docs/PROTOCOL.md §3.3).
    public static let mandatoryCodes: CodeSet = CodeSet([1, 3, 6, 15, 51, 53, 54, 58, 59])
    /// The broadcast bit of `flags`.
    public static let broadcastFlag: UInt16 = 0x8000
    /// `63 82 53 63`.
    public static let magicCookie: [UInt8] = [99, 130, 83, 99]
    @usableFromInline static let headerSize = 240

    /// Options to emit: nil means every stored option (the request had no option 55).
    public var selection: CodeSet?
    /// The largest datagram the client accepts, from options 22 and 57 at decode time (docs/PROTOCOL.md §3.3).
    public var maximumSize: Int?

    /// The option decoding left out because the datagram ended inside it (nil when nothing was cut
    /// off). A note about where the packet came from, so not part of equality and never encoded.
    public var truncatedOption: TruncatedOption?

    /// Reply addressing overrides set by scripts; never encoded (docs/PROTOCOL.md §4.2).
    public var responseIP: IPv4?
    public var responsePort: UInt16?
    public var responseMAC: MAC?
    public var responseSourcePort: UInt16?

    /// Accepted for compatibility with the original's flags; they have no effect on encoding
    /// (the original raised whenever they were set, docs/PROTOCOL.md §6 item 8).
    public var wordAlign = false
    public var terminalPad = false

    /// A blank packet: a zero header with the magic cookie, no options, nothing selected explicitly.
    public init() {
        storage = [UInt8](repeating: 0, count: DHCPPacket.headerSize)
        storage.withUnsafeMutableBufferPointer { buffer in
            buffer[236] = 99; buffer[237] = 130; buffer[238] = 83; buffer[239] = 99
        }
    }

    @usableFromInline init(storage: [UInt8], selection: CodeSet?, maximumSize: Int?) {
        self.storage = storage
        self.selection = selection
        self.maximumSize = maximumSize
    }

    /// The options to emit as a `Set` (nil = everything stored).
    public var selectedOptions: Set<UInt8>? {
        get { selection.map { Set($0) } }
        set { selection = newValue.map { CodeSet($0) } }
    }

    /// Adds `code` to the selection set when there is one (with no set, everything is selected already).
    public mutating func select(_ code: UInt8) {
        selection?.insert(code)
    }

    // MARK: Header fields

    @inlinable func byte(at offset: Int) -> UInt8 { storage[offset] }

    @inlinable func u16(at offset: Int) -> UInt16 { UInt16(storage[offset]) << 8 | UInt16(storage[offset + 1]) }

    @inlinable func u32(at offset: Int) -> UInt32 {
        UInt32(storage[offset]) << 24 | UInt32(storage[offset + 1]) << 16
            | UInt32(storage[offset + 2]) << 8 | UInt32(storage[offset + 3])
    }

    @inlinable mutating func setU16(_ value: UInt16, at offset: Int) {
        storage[offset] = UInt8(truncatingIfNeeded: value >> 8)
        storage[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable mutating func setU32(_ value: UInt32, at offset: Int) {
        storage[offset] = UInt8(truncatingIfNeeded: value >> 24)
        storage[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        storage[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        storage[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    public var op: UInt8 { get { storage[0] } set { storage[0] = newValue } }
    public var htype: UInt8 { get { storage[1] } set { storage[1] = newValue } }
    public var hlen: UInt8 { get { storage[2] } set { storage[2] = newValue } }
    public var hops: UInt8 { get { storage[3] } set { storage[3] = newValue } }
    public var xid: UInt32 { get { u32(at: 4) } set { setU32(newValue, at: 4) } }
    public var secs: UInt16 { get { u16(at: 8) } set { setU16(newValue, at: 8) } }
    public var flags: UInt16 { get { u16(at: 10) } set { setU16(newValue, at: 10) } }
    public var ciaddr: IPv4 { get { IPv4(u32(at: 12)) } set { setU32(newValue.value, at: 12) } }
    public var yiaddr: IPv4 { get { IPv4(u32(at: 16)) } set { setU32(newValue.value, at: 16) } }
    public var siaddr: IPv4 { get { IPv4(u32(at: 20)) } set { setU32(newValue.value, at: 20) } }
    public var giaddr: IPv4 { get { IPv4(u32(at: 24)) } set { setU32(newValue.value, at: 24) } }

    /// All 16 bytes of chaddr. Setting pads a shorter value with zeros and ignores bytes past 16.
    public var chaddr: [UInt8] {
        get { Array(storage[28..<44]) }
        set { writeField(newValue, offset: 28, size: 16) }
    }

    /// The 64 bytes of sname (NUL padding kept). Setting pads with zeros and cuts at 64.
    public var sname: [UInt8] {
        get { Array(storage[44..<108]) }
        set { writeField(newValue, offset: 44, size: 64) }
    }

    /// The 128 bytes of file (NUL padding kept). Setting pads with zeros and cuts at 128.
    public var file: [UInt8] {
        get { Array(storage[108..<236]) }
        set { writeField(newValue, offset: 108, size: 128) }
    }

    mutating func writeField(_ bytes: [UInt8], offset: Int, size: Int) {
        for index in 0..<size {
            storage[offset + index] = index < bytes.count ? bytes[index] : 0
        }
    }

    /// The broadcast bit (0x8000) of `flags`.
    public var isBroadcast: Bool {
        get { flags & DHCPPacket.broadcastFlag != 0 }
        set { flags = newValue ? flags | DHCPPacket.broadcastFlag : flags & ~DHCPPacket.broadcastFlag }
    }

    /// The client's MAC: the first six bytes of chaddr. Throws when `hlen` is 1...5, which cannot
    /// describe a MAC (docs/PROTOCOL.md §1.1).
    public func hardwareAddress() throws(WireError) -> MAC {
        let length = hlen
        if length > 0 && length < 6 {
            throw WireError.invalidValue("hlen is \(length), too short for a 6-byte MAC address")
        }
        var value: UInt64 = 0
        for index in 28..<34 { value = value << 8 | UInt64(storage[index]) }
        return MAC(value)
    }

    /// Writes `mac` into chaddr[0..<6]; `hlen` is left alone.
    public mutating func setHardwareAddress(_ mac: MAC) {
        for (index, byte) in mac.bytes.enumerated() { storage[28 + index] = byte }
    }

    // MARK: Equality

    /// Packets are equal when their headers, stored option values (in any order), selection,
    /// maximum size and response overrides are equal (`truncatedOption` does not count).
    public static func == (lhs: DHCPPacket, rhs: DHCPPacket) -> Bool {
        guard lhs.selection == rhs.selection, lhs.maximumSize == rhs.maximumSize,
              lhs.responseIP == rhs.responseIP, lhs.responsePort == rhs.responsePort,
              lhs.responseMAC == rhs.responseMAC, lhs.responseSourcePort == rhs.responseSourcePort,
              lhs.wordAlign == rhs.wordAlign, lhs.terminalPad == rhs.terminalPad,
              lhs.storage[0..<headerSize] == rhs.storage[0..<headerSize],
              lhs.storedCodes == rhs.storedCodes
        else { return false }
        for code in lhs.storedCodes where lhs.option(code) != rhs.option(code) { return false }
        return true
    }
}
