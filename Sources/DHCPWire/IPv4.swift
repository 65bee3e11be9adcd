/// An IPv4 address, stored as its 32-bit big-endian value.
///
/// Parsing follows the original library's lenient rules: pieces are trimmed,
/// decimal with leading zeros allowed, and only the first four pieces of a longer dotted string
/// are used, provided every piece parses.
public struct IPv4: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public static let zero = IPv4(0)
    public static let broadcast = IPv4(0xFFFF_FFFF)

    @inlinable public init(_ value: UInt32) { self.value = value }

    @inlinable public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The first four bytes of `bytes`; throws when fewer than four are given.
    public init<C: Collection>(bytes: C) throws(WireError) where C.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var result: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = iterator.next() else {
                throw WireError.invalidValue("an IPv4 address needs 4 bytes, got \(bytes.count)")
            }
            result = result << 8 | UInt32(byte)
        }
        value = result
    }

    /// Parses a dotted quad with the original's lenient rules; nil when it is not an address.
    public init?(_ text: some StringProtocol) {
        if let plain = text.utf8.withContiguousStorageIfAvailable({ IPv4(plainDottedQuad: $0) }) ?? nil {
            self = plain
            return
        }
        var octets: [UInt32] = []
        octets.reserveCapacity(4)
        for piece in Substring(text).split(separator: ".", omittingEmptySubsequences: false) {
            guard let number = IPv4.parseDecimal(piece), number <= 255 else { return nil }
            octets.append(number)
        }
        guard octets.count >= 4 else { return nil }
        value = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
    }

    /// The common spelling only, `d.d.d.d` with 1-3 digits each, straight from UTF-8 bytes; nil
    /// for anything else (which `init?(_:)` then tries with the lenient rules). Database rows hold
    /// addresses as text, so this runs several times per lookup.
    public init?(plainDottedQuad bytes: UnsafeBufferPointer<UInt8>) {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        self.value = value << 8 | octet
    }

    /// Parses `text` or throws an error that quotes it.
    public static func parse(_ text: some StringProtocol) throws(WireError) -> IPv4 {
        guard let address = IPv4(text) else {
            throw WireError.invalidValue("'\(text)' is not an IPv4 address")
        }
        return address
    }

    /// Decimal with optional surrounding whitespace, a leading '+', and '_' between digits.
    private static func parseDecimal(_ piece: Substring) -> UInt32? {
        let trimmed = piece.trimmingSpaces
        var digits = trimmed[...]
        if digits.first == "+" { digits = digits.dropFirst() }
        guard let first = digits.first, first.isASCII, first.isNumber, digits.last?.isNumber == true else { return nil }
        var result: UInt32 = 0
        var previousUnderscore = false
        for character in digits {
            if character == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            guard let digit = character.asciiValue, digit >= 48, digit <= 57 else { return nil }
            result = result &* 10 &+ UInt32(digit - 48)
            if result > 0xFFFF { return nil }
        }
        return result
    }

    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public var isZero: Bool { value == 0 }

    /// True when `self` and `address` agree on the top `prefix` bits (0 matches everything).
    public func isSubnetMember(_ address: IPv4, prefix: Int) -> Bool {
        guard prefix > 0 else { return true }
        let mask: UInt32 = prefix >= 32 ? 0xFFFF_FFFF : ~(UInt32.max >> UInt32(prefix))
        return mask & address.value == mask & value
    }

    /// True when `self` and `address` agree on the bits set in `mask`.
    public func isSubnetMember(_ address: IPv4, mask: IPv4) -> Bool {
        mask.value & address.value == mask.value & value
    }

    public var description: String {
        // At most 15 bytes, so the result is a small string and formatting allocates nothing;
        // addresses are formatted for every logged packet.
        String(unsafeUninitializedCapacity: 15) { text in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = Int(truncatingIfNeeded: value >> UInt32(shift)) & 0xFF
                if octet >= 100 { text[count] = UInt8(48 + octet / 100); count += 1 }
                if octet >= 10 { text[count] = UInt8(48 + octet / 10 % 10); count += 1 }
                text[count] = UInt8(48 + octet % 10)
                count += 1
                if shift > 0 { text[count] = 46; count += 1 } // '.'
            }
            return count
        }
    }

    public static func < (lhs: IPv4, rhs: IPv4) -> Bool { lhs.value < rhs.value }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}

extension IPv4 {
    /// A piece of a comma-separated list that is not an address.
    public struct ListEntryError: Error, Sendable, Equatable {
        /// The piece as written.
        public let piece: String

        public init(piece: String) { self.piece = piece }
    }

    /// The addresses of a comma-separated list, as the `subnets` table, INI files, the `db` tool's
    /// options and the scripts write them. Where the original skipped empty pieces ("a,,b", and
    /// so empty text) they are skipped; elsewhere an empty piece is the one that is not an address.
    public static func list(_ text: some StringProtocol, skippingEmptyPieces: Bool = true) throws(ListEntryError) -> [IPv4] {
        var addresses: [IPv4] = []
        for piece in Substring(text).split(separator: ",", omittingEmptySubsequences: skippingEmptyPieces) {
            guard let address = IPv4(piece) else { throw ListEntryError(piece: String(piece)) }
            addresses.append(address)
        }
        return addresses
    }
}
