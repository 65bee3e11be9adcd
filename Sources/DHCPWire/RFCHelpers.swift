/// The value built by an RFC helper: the option bytes and the helper's name.
/// `setOption` stores `bytes` unchanged for any option or field.
public struct RFCValue: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    public var description: String { "<\(name) : \(bytes)>" }
}

/// The RFC encoders and decoders, named as scripts know them.
///
/// Decisions (differences from the Python original, on purpose):
/// * `rfc5678_139` and `rfc5678_140` write the sub-option length byte RFC 5678 requires
///   (`code, length, data`); the original omitted it, which no client can parse.
/// * `rfc2610_79`, `rfc3925_124` and `rfc3925_125` produce the bytes the original intended
///   (it fails under Python 3).
/// * The decoders never modify their input (the original's `rfc3046_decode` removed two bytes
///   from the stored option 82).
/// * FQDNs are encoded from their UTF-8 bytes (the original used code points); a label longer than
///   63 bytes throws (RFC 1035), as does any length that does not fit its length byte.
public enum RFC {
    // MARK: Decoders

    /// Option 82: `{sub-option: bytes}`. A length past the end takes what remains; a repeated id keeps
    /// the last value; an id with no length byte throws.
    public static func rfc3046_decode(_ bytes: [UInt8]) throws(WireError) -> [UInt8: [UInt8]] {
        var result: [UInt8: [UInt8]] = [:]
        var index = 0
        while index < bytes.count {
            guard index + 1 < bytes.count else {
                throw WireError.invalidValue("relay agent sub-option \(bytes[index]) has no length byte")
            }
            let end = min(index + 2 + Int(bytes[index + 1]), bytes.count)
            result[bytes[index]] = Array(bytes[(index + 2)..<end])
            index = end
        }
        return result
    }

    /// Option 124 (and the outer level of 125): `{enterprise: data}` with an `identifierSize`-byte
    /// enterprise number, a length byte, then the data. A missing length byte throws.
    public static func rfc3925_decode(_ bytes: [UInt8], identifierSize: Int = 4) throws(WireError) -> [UInt32: [UInt8]] {
        guard (1...4).contains(identifierSize) else {
            throw WireError.invalidValue("identifier size \(identifierSize) is not 1...4")
        }
        var result: [UInt32: [UInt8]] = [:]
        var index = 0
        while index < bytes.count {
            guard index + identifierSize < bytes.count else {
                throw WireError.invalidValue("vendor data at byte \(index) ends before its length byte")
            }
            var identifier: UInt32 = 0
            for byte in bytes[index..<(index + identifierSize)] { identifier = identifier << 8 | UInt32(byte) }
            let lengthIndex = index + identifierSize
            let end = min(lengthIndex + 1 + Int(bytes[lengthIndex]), bytes.count)
            result[identifier] = Array(bytes[(lengthIndex + 1)..<end])
            index = end
        }
        return result
    }

    /// Option 125: `{enterprise: {sub-code: data}}`.
    public static func rfc3925_125_decode(_ bytes: [UInt8]) throws(WireError) -> [UInt32: [UInt8: [UInt8]]] {
        var result: [UInt32: [UInt8: [UInt8]]] = [:]
        for (enterprise, payload) in try rfc3925_decode(bytes) {
            var inner: [UInt8: [UInt8]] = [:]
            for (code, data) in try rfc3925_decode(payload, identifierSize: 1) { inner[UInt8(code)] = data }
            result[enterprise] = inner
        }
        return result
    }

    // MARK: Encoders

    /// Generic list of FQDNs, comma-separated (empty pieces skipped).
    public static func rfc1035_plus(_ names: String) throws(WireError) -> RFCValue {
        RFCValue(name: "rfc1035_plus", bytes: try encodeNames(names))
    }

    /// Option 119, domain search.
    public static func rfc3397_119(_ names: String) throws(WireError) -> RFCValue {
        RFCValue(name: "rfc3397_119", bytes: try encodeNames(names))
    }

    /// Option 88, BCMCS controller domain list.
    public static func rfc4280_88(_ names: String) throws(WireError) -> RFCValue {
        RFCValue(name: "rfc4280_88", bytes: try encodeNames(names))
    }

    /// Option 137, LoST server.
    public static func rfc5223_137(_ names: String) throws(WireError) -> RFCValue {
        RFCValue(name: "rfc5223_137", bytes: try encodeNames(names))
    }

    /// Option 78, SLP directory agent: the mandatory byte then 4 bytes per address.
    public static func rfc2610_78(mandatory: Bool, _ addresses: String) throws(WireError) -> RFCValue {
        RFCValue(name: "rfc2610_78", bytes: [mandatory ? 1 : 0] + (try addressPieces(addresses)))
    }

    /// Option 79, SLP service scope: the mandatory byte then the scope list's bytes.
    public static func rfc2610_79(mandatory: Bool, _ scope: [UInt8]) -> RFCValue {
        RFCValue(name: "rfc2610_79", bytes: [mandatory ? 1 : 0] + scope)
    }

    public static func rfc2610_79(mandatory: Bool, _ scope: String) -> RFCValue {
        rfc2610_79(mandatory: mandatory, Array(scope.utf8))
    }

    /// Option 120, SIP servers: all addresses (encoding byte 1) or all names (encoding byte 0).
    /// A mixture, or nothing at all, throws.
    public static func rfc3361_120(_ servers: String) throws(WireError) -> RFCValue {
        let pieces = commaPieces(servers)
        let addresses = pieces.compactMap { IPv4($0) }
        if !pieces.isEmpty && addresses.count == pieces.count {
            return RFCValue(name: "rfc3361_120", bytes: [1] + addresses.flatMap(\.bytes))
        }
        guard !pieces.isEmpty, addresses.isEmpty else {
            throw WireError.invalidValue("rfc3361_120: '\(servers)' must be all addresses or all names, and not empty")
        }
        var bytes: [UInt8] = [0]
        for piece in pieces { bytes += try encodeName(piece) }
        return RFCValue(name: "rfc3361_120", bytes: bytes)
    }

    /// Option 121, classless static routes: prefix length, the significant network octets (host
    /// bits are not masked), then the router.
    public static func rfc3442_121(_ routes: [(network: IPv4, prefixLength: Int, router: IPv4)]) throws(WireError) -> RFCValue {
        var bytes: [UInt8] = []
        for route in routes {
            guard (0...32).contains(route.prefixLength) else {
                throw WireError.invalidValue("rfc3442_121: prefix length \(route.prefixLength) is not 0...32")
            }
            bytes.append(UInt8(route.prefixLength))
            bytes += route.network.bytes.prefix((route.prefixLength + 7) / 8)
            bytes += route.router.bytes
        }
        return RFCValue(name: "rfc3442_121", bytes: bytes)
    }

    /// Option 124, vendor class: per enterprise (ascending), 4-byte number, length, data.
    public static func rfc3925_124(_ classes: [UInt32: [UInt8]]) throws(WireError) -> RFCValue {
        var bytes: [UInt8] = []
        for enterprise in classes.keys.sorted() {
            bytes += Conversions.longToList(Int64(enterprise))
            bytes += try lengthPrefixed(classes[enterprise]!, what: "enterprise \(enterprise) data")
        }
        return RFCValue(name: "rfc3925_124", bytes: bytes)
    }

    /// Option 125, vendor-specific: per enterprise (ascending), 4-byte number, length, then
    /// sub-options `code, length, data` in ascending code order.
    public static func rfc3925_125(_ vendors: [UInt32: [UInt8: [UInt8]]]) throws(WireError) -> RFCValue {
        var bytes: [UInt8] = []
        for enterprise in vendors.keys.sorted() {
            var block: [UInt8] = []
            let suboptions = vendors[enterprise]!
            for code in suboptions.keys.sorted() {
                block.append(code)
                block += try lengthPrefixed(suboptions[code]!, what: "sub-option \(code)")
            }
            bytes += Conversions.longToList(Int64(enterprise))
            bytes += try lengthPrefixed(block, what: "enterprise \(enterprise) sub-options")
        }
        return RFCValue(name: "rfc3925_125", bytes: bytes)
    }

    /// Option 83, iSNS: three 16-bit fields, one 32-bit field (masked), then the addresses.
    public static func rfc4174_83(isnsFunctions: Int64, ddAccess: Int64, adminFlags: Int64,
                                  isnsSecurity: Int64, _ addresses: String) throws(WireError) -> RFCValue {
        let bytes = Conversions.intToList(isnsFunctions) + Conversions.intToList(ddAccess)
            + Conversions.intToList(adminFlags) + Conversions.longToList(isnsSecurity) + (try addressPieces(addresses))
        return RFCValue(name: "rfc4174_83", bytes: bytes)
    }

    /// Option 139, MoS addresses: per pair, `code, length, addresses` (RFC 5678, with the length byte).
    public static func rfc5678_139(_ values: [(code: UInt8, addresses: String)]) throws(WireError) -> RFCValue {
        try mobilityServices("rfc5678_139", values.map { ($0.code, $0.addresses) }, addressPieces)
    }

    /// Option 140, MoS domain names: per pair, `code, length, FQDNs` (RFC 5678, with the length byte).
    public static func rfc5678_140(_ values: [(code: UInt8, names: String)]) throws(WireError) -> RFCValue {
        try mobilityServices("rfc5678_140", values.map { ($0.code, $0.names) }, encodeNames)
    }

    /// Options 139 and 140: per pair, the code, then the length and the text as `encode` writes it.
    private static func mobilityServices(
        _ name: String, _ values: [(UInt8, String)], _ encode: (String) throws(WireError) -> [UInt8]
    ) throws(WireError) -> RFCValue {
        var bytes: [UInt8] = []
        for (code, text) in values {
            bytes.append(code)
            bytes += try lengthPrefixed(try encode(text), what: "MoS sub-option \(code)")
        }
        return RFCValue(name: name, bytes: bytes)
    }

    // MARK: Shared pieces

    static func commaPieces(_ text: String) -> [Substring] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { Substring($0).trimmingSpaces }.filter { !$0.isEmpty }
    }

    static func addressPieces(_ text: String) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        for piece in commaPieces(text) { bytes += try IPv4.parse(piece).bytes }
        return bytes
    }

    static func encodeNames(_ text: String) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        for piece in commaPieces(text) { bytes += try encodeName(piece) }
        return bytes
    }

    /// RFC 1035 labels, no compression. A trailing dot gives an empty label, as in the original.
    static func encodeName(_ name: Substring) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            let utf8 = Array(label.utf8)
            guard utf8.count <= 63 else {
                throw WireError.invalidValue("label '\(label)' is longer than 63 bytes")
            }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        bytes.append(0)
        return bytes
    }

    static func lengthPrefixed(_ data: [UInt8], what: String) throws(WireError) -> [UInt8] {
        guard data.count <= 255 else {
            throw WireError.invalidValue("\(what) is \(data.count) bytes; a length byte holds at most 255")
        }
        return [UInt8(data.count)] + data
    }
}
