/// A 48-bit hardware address. Its canonical text is lower-case `aa:bb:cc:dd:ee:ff`.
public struct MAC: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a 48-bit big-endian integer.
    public var value: UInt64

    @inlinable public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// Exactly six bytes; anything else throws.
    public init<C: Collection>(bytes: C) throws(WireError) where C.Element == UInt8 {
        guard bytes.count == 6 else {
            throw WireError.invalidValue("a MAC address needs 6 bytes, got \(bytes.count)")
        }
        var result: UInt64 = 0
        for byte in bytes { result = result << 8 | UInt64(byte) }
        value = result
    }

    /// Any spelling that leaves exactly 12 hex digits once every other character is dropped
    /// (`00:11:22:33:44:55`, `0011.2233.4455`, `00-11-22-33-44-55`, `001122334455`).
    public init?(_ text: some StringProtocol) {
        var result: UInt64 = 0
        var digits = 0
        for unit in text.utf8 {
            let nibble: UInt8
            switch unit {
            case 48...57: nibble = unit - 48
            case 97...102: nibble = unit - 87
            case 65...70: nibble = unit - 55
            default: continue
            }
            digits += 1
            if digits > 12 { return nil }
            result = result << 4 | UInt64(nibble)
        }
        guard digits == 12 else { return nil }
        value = result
    }

    /// Parses `text` or throws an error that quotes it.
    public static func parse(_ text: some StringProtocol) throws(WireError) -> MAC {
        guard let mac = MAC(text) else {
            throw WireError.invalidValue("'\(text)' is not a MAC address (12 hex digits expected)")
        }
        return mac
    }

    public var bytes: [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * $0)) }
    }

    public var isZero: Bool { value == 0 }

    public var description: String {
        // Written straight into the string's storage: MACs are formatted for every logged packet.
        String(unsafeUninitializedCapacity: MAC.textLength) { text in
            writeText(into: text)
            return MAC.textLength
        }
    }

    /// The length of the canonical text, `aa:bb:cc:dd:ee:ff`.
    public static let textLength = 17

    /// The canonical text in a buffer on the stack, for a caller that hands it straight to C (a
    /// database lookup binds it): 17 bytes do not fit a small string, so `description` allocates.
    public func withText<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: MAC.textLength) { buffer in
            writeText(into: buffer)
            return try body(UnsafeBufferPointer(buffer))
        }
    }

    private func writeText(into text: UnsafeMutableBufferPointer<UInt8>) {
        let digits: StaticString = "0123456789abcdef"
        let hex = digits.utf8Start
        for index in 0..<6 {
            let byte = Int(truncatingIfNeeded: value >> UInt64(40 - 8 * index)) & 0xFF
            text[index * 3] = hex[byte >> 4]
            text[index * 3 + 1] = hex[byte & 0x0F]
            if index < 5 { text[index * 3 + 2] = 58 } // ':'
        }
    }

    public static func < (lhs: MAC, rhs: MAC) -> Bool { lhs.value < rhs.value }
}
