/// Option overload on input (RFC 2131 §4.1, option 52): when the options area carries option 52,
/// `file` (bit 1) and then `sname` (bit 2) hold more options. They are read with the options
/// area's lenient rule (docs/PROTOCOL.md §6 items 17 and 18): every complete option is kept, a truncated
/// trailing one is ignored. A rare path, so it works on arrays rather than the fast path's buffer.
extension DHCPPacket {
    /// The header fields option 52 can hand over to options, in the order RFC 2131 reads them.
    private static let overloadFields: [(bit: UInt8, range: Range<Int>, area: TruncatedOption.Area)] = [
        (1, 108..<236, .file), (2, 44..<108, .sname),
    ]

    /// Appends the records of the options found in the fields `bits` names, and zeroes those fields:
    /// they held options, not a server name or boot file, so nothing reads or echoes them as such.
    /// Returns the first truncated option met in them.
    static func appendOverloadedOptions(_ storage: inout [UInt8], bits: UInt8) -> TruncatedOption? {
        var truncation: TruncatedOption?
        for field in overloadFields where bits & field.bit != 0 {
            let bytes = Array(storage[field.range])
            let found = readOptions(bytes, base: field.range.lowerBound, area: field.area, into: &storage)
            if truncation == nil { truncation = found }
            for index in field.range { storage[index] = 0 }
        }
        return truncation
    }

    /// Reads `code, length, value` options from `area` (which starts at datagram offset `base`) up
    /// to END or its end, appending a record for each kept code. Option 52 itself is not honoured
    /// inside a field (RFC 2131 §4.1 allows it only in the options area).
    private static func readOptions(_ area: [UInt8], base: Int, area name: TruncatedOption.Area,
                                    into storage: inout [UInt8]) -> TruncatedOption? {
        let kept = DHCPOptions.keptOnDecode
        var position = 0
        while position < area.count {
            let code = area[position]
            if code == 0 { position += 1; continue }
            if code == 255 { return nil }
            guard position + 1 < area.count else {
                return TruncatedOption(code: code, offset: base + position, declaredLength: nil, remaining: 0, area: name)
            }
            let length = Int(area[position + 1])
            let valueStart = position + 2
            guard valueStart + length <= area.count else {
                return TruncatedOption(code: code, offset: base + position, declaredLength: length,
                                       remaining: area.count - valueStart, area: name)
            }
            position = valueStart + length
            guard code != 52, kept.contains(code) else { continue }
            storage.append(code)
            storage.append(0)
            storage.append(UInt8(length))
            storage.append(contentsOf: area[valueStart..<position])
        }
        return nil
    }
}
