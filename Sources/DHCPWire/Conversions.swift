/// The conversion functions (also offered to scripts). "Int" is 16 bits and
/// "long" is 32 bits, as in BOOTP; every byte order is big-endian.
public enum Conversions {
    /// Big-endian value of all the bytes (empty gives 0). More than 8 bytes cannot be represented.
    public static func listToNumber(_ bytes: some Collection<UInt8>) throws(WireError) -> UInt64 {
        guard bytes.count <= 8 else {
            throw WireError.invalidValue("listToNumber: \(bytes.count) bytes do not fit in 64 bits")
        }
        var result: UInt64 = 0
        for byte in bytes { result = result << 8 | UInt64(byte) }
        return result
    }

    /// The first two bytes as a big-endian number (one byte gives that byte).
    public static func listToInt(_ bytes: some Collection<UInt8>) -> Int64 {
        var result: Int64 = 0
        for byte in bytes.prefix(2) { result = result << 8 | Int64(byte) }
        return result
    }

    /// One value per complete pair of bytes; an odd trailing byte is dropped.
    public static func listToInts(_ bytes: [UInt8]) -> [Int64] {
        stride(from: 0, to: bytes.count - 1, by: 2).map { Int64(bytes[$0]) << 8 | Int64(bytes[$0 + 1]) }
    }

    /// The first four bytes as a big-endian unsigned number (fewer bytes give a smaller number).
    public static func listToLong(_ bytes: some Collection<UInt8>) -> Int64 {
        var result: Int64 = 0
        for byte in bytes.prefix(4) { result = result << 8 | Int64(byte) }
        return result
    }

    /// One value per complete group of four bytes; a partial group at the end is dropped.
    public static func listToLongs(_ bytes: [UInt8]) -> [Int64] {
        stride(from: 0, to: bytes.count - 3, by: 4).map { listToLong(bytes[$0..<($0 + 4)]) }
    }

    /// Two bytes, masked to 16 bits (-1 gives FF FF).
    public static func intToList(_ value: Int64) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public static func intsToList(_ values: [Int64]) -> [UInt8] { values.flatMap(intToList) }

    /// Four bytes, masked to 32 bits (-2 gives FF FF FF FE).
    public static func longToList(_ value: Int64) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public static func longsToList(_ values: [Int64]) -> [UInt8] { values.flatMap(longToList) }

    /// A byte string from integers, each of which must be 0...255.
    public static func listToStr(_ values: [Int64]) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard let byte = UInt8(exactly: value) else {
                throw WireError.invalidValue("listToStr: element \(index + 1) is \(value), outside 0..255")
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// The UTF-8 bytes of `text`.
    public static func strToList(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Byte strings are already lists of bytes.
    public static func strToList(_ bytes: [UInt8]) -> [UInt8] { bytes }

    /// The bytes zero-padded or cut to exactly `length` (a cut may split a UTF-8 sequence).
    public static func strToPaddedList(_ bytes: [UInt8], _ length: Int) throws(WireError) -> [UInt8] {
        guard length >= 0 else { throw WireError.invalidValue("strToPaddedList: negative length \(length)") }
        if bytes.count >= length { return Array(bytes.prefix(length)) }
        return bytes + [UInt8](repeating: 0, count: length - bytes.count)
    }

    public static func strToPaddedList(_ text: String, _ length: Int) throws(WireError) -> [UInt8] {
        try strToPaddedList(Array(text.utf8), length)
    }

    /// The first four bytes as an address; fewer than four throws.
    public static func listToIP(_ bytes: some Collection<UInt8>) throws(WireError) -> IPv4 {
        try IPv4(bytes: bytes)
    }

    /// One address per complete group of four bytes.
    public static func listToIPs(_ bytes: [UInt8]) -> [IPv4] {
        stride(from: 0, to: bytes.count - 3, by: 4).map {
            IPv4(bytes[$0], bytes[$0 + 1], bytes[$0 + 2], bytes[$0 + 3])
        }
    }

    public static func ipToList(_ address: IPv4) -> [UInt8] { address.bytes }

    /// A dotted quad, parsed leniently (`IPv4.parse`).
    public static func ipToList(_ text: some StringProtocol) throws(WireError) -> [UInt8] {
        try IPv4.parse(text).bytes
    }

    /// A comma-separated list of dotted quads; an empty piece (so also `""`) throws.
    public static func ipsToList(_ text: some StringProtocol) throws(WireError) -> [UInt8] {
        do {
            return try IPv4.list(text, skippingEmptyPieces: false).flatMap(\.bytes)
        } catch where Substring(error.piece).trimmingSpaces.isEmpty {
            throw WireError.invalidValue("'\(text)' has an empty address in its comma-separated list")
        } catch {
            throw WireError.invalidValue("'\(error.piece)' is not an IPv4 address")
        }
    }

    public static func ipsToList(_ addresses: [IPv4]) -> [UInt8] { addresses.flatMap(\.bytes) }
}
