/// Encoding, with two deliberate improvements over the original (docs/PROTOCOL.md §3.3, §6 item 7):
///
/// * The size budget is accounted **cumulatively**: an option goes into the options area only if it
///   fits in what is left, so a reply never exceeds the client's maximum size (22/57, less 68 bytes
///   for the IP and UDP headers and 3 for option 52). An option that does not fit becomes a leftover,
///   and later, smaller options still go into the main area.
/// * **Overload** (option 52) places leftovers in `sname` (bit 2) then `file` (bit 1), each used only
///   if it is all zero, packing whole options cumulatively with room for END, so nothing spills past a
///   field. A field's bit is set only when something was placed in it. Leftovers that fit nowhere are
///   dropped (an option larger than 127 bytes can therefore only travel in the main area).
///
/// Unchanged from the original in the common case (everything fits): only selected options are
/// emitted, 53, 54, 51 first then ascending codes; values longer than 255 bytes are split into
/// 255-byte chunks of the same code (RFC 3396); the options end with `FF 00 00 00` (END plus room for
/// option 52), and with overload those four bytes become `34 01 <bits> FF`. No padding to 300 bytes.
/// The encoder owns option 52: a stored option 52 is never emitted.
/// A client maximum size below 576 (the smallest RFC 2132 allows) is treated as 576; honouring it
/// literally would leave no room even for option 53.
extension DHCPPacket {
    /// The smallest maximum message size RFC 2132 allows (option 57).
    public static let minimumMessageSize = 576

    /// The datagram for this packet.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Replaces the contents of `out` with the datagram, reusing its capacity.
    ///
    /// The datagram is assembled in a stack buffer and appended to `out` in one copy: an array's
    /// count cannot grow without initialising its elements, and filling them byte by byte (or
    /// creating the array with `unsafeUninitializedCapacity`, which looks up generic metadata on
    /// every call) cost more than the encoding itself.
    public func encode(into out: inout [UInt8]) {
        let limit = max(maximumSize ?? 65535, DHCPPacket.minimumMessageSize) - DHCPPacket.headerSize - 68 - 3
        let mainBudget = max(limit - 1, 0)
        let selection = self.selection
        storage.withUnsafeBufferPointer { records in
            // At most one record per code, and each takes at least 3 bytes.
            let capacity = min((records.count - DHCPPacket.headerSize) / 3 + 1, 256)
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { entries in
                // Each entry: sort key (53, 54, 51 first, then by code) << 32 | record offset.
                var count = 0
                var position = DHCPPacket.headerSize
                while position + 3 <= records.count {
                    let code = records[position]
                    if code != 52 && (selection?.contains(code) ?? true) {
                        let key: UInt64 = code == 53 ? 0 : code == 54 ? 1 : code == 51 ? 2 : UInt64(code) + 3
                        let entry = key << 32 | UInt64(position)
                        // Insertion sort: a packet holds a handful of options.
                        var slot = count
                        while slot > 0 && entries[slot - 1] > entry {
                            entries[slot] = entries[slot - 1]
                            slot -= 1
                        }
                        entries[slot] = entry
                        count += 1
                    }
                    position += 3 + (Int(records[position + 1]) << 8 | Int(records[position + 2]))
                }
                // Partition into the options area (cumulative budget) and leftovers, keeping order;
                // leftover entries are marked with bit 63.
                var mainUsed = 0
                var leftovers = 0
                for index in 0..<count {
                    let offset = Int(truncatingIfNeeded: entries[index] & 0xFFFF_FFFF)
                    let size = DHCPPacket.blockSize(Int(records[offset + 1]) << 8 | Int(records[offset + 2]))
                    if mainUsed + size <= mainBudget {
                        mainUsed += size
                    } else {
                        entries[index] |= 1 << 63
                        leftovers += 1
                    }
                }
                let total = DHCPPacket.headerSize + mainUsed + 4
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { output in
                    output.baseAddress!.initialize(from: records.baseAddress!, count: DHCPPacket.headerSize)
                    var cursor = DHCPPacket.headerSize
                    for index in 0..<count where entries[index] >> 63 == 0 {
                        cursor = DHCPPacket.writeBlock(records: records, offset: Int(truncatingIfNeeded: entries[index] & 0xFFFF_FFFF),
                                                       into: output, at: cursor)
                    }
                    // END, then three zero bytes: room for option 52 should overload be needed.
                    output[cursor] = 255
                    output[cursor + 1] = 0
                    output[cursor + 2] = 0
                    output[cursor + 3] = 0
                    if leftovers > 0 {
                        let overload = DHCPPacket.placeLeftovers(records: records, entries: entries, count: count, into: output)
                        if overload != 0 {
                            output[cursor] = 52
                            output[cursor + 1] = 1
                            output[cursor + 2] = overload
                            output[cursor + 3] = 255
                        }
                    }
                    if !out.isEmpty { out.removeAll(keepingCapacity: true) }
                    out.append(contentsOf: UnsafeBufferPointer(output))
                }
            }
        }
    }

    /// Packs the leftover entries (bit 63 set) into sname, then file; returns the option 52 bits.
    static func placeLeftovers(records: UnsafeBufferPointer<UInt8>, entries: UnsafeMutableBufferPointer<UInt64>,
                               count: Int, into output: UnsafeMutableBufferPointer<UInt8>) -> UInt8 {
        var overload: UInt8 = 0
        for (fieldOffset, fieldSize, bit) in [(44, 64, UInt8(2)), (108, 128, UInt8(1))] {
            guard records[fieldOffset..<(fieldOffset + fieldSize)].allSatisfy({ $0 == 0 }) else { continue }
            var used = 0
            var cursor = fieldOffset
            for index in 0..<count where entries[index] >> 63 == 1 {
                let offset = Int(truncatingIfNeeded: entries[index] & 0xFFFF_FFFF)
                let size = blockSize(Int(records[offset + 1]) << 8 | Int(records[offset + 2]))
                guard used + size <= fieldSize - 1 else { continue }
                cursor = writeBlock(records: records, offset: offset, into: output, at: cursor)
                used += size
                entries[index] &= ~(1 << 63) // placed
            }
            if used > 0 {
                output[cursor] = 255
                overload |= bit
            }
        }
        return overload
    }

    /// Encoded size of a value of `length` bytes: 255-byte chunks, each with code and length.
    @inlinable static func blockSize(_ length: Int) -> Int {
        length == 0 ? 2 : length + 2 * ((length + 254) / 255)
    }

    /// Writes the record at `offset` as TLV chunks at `cursor`; returns the new cursor.
    static func writeBlock(records: UnsafeBufferPointer<UInt8>, offset: Int,
                           into output: UnsafeMutableBufferPointer<UInt8>, at cursor: Int) -> Int {
        let code = records[offset]
        var remaining = Int(records[offset + 1]) << 8 | Int(records[offset + 2])
        var source = offset + 3
        var cursor = cursor
        repeat {
            let chunk = min(remaining, 255)
            output[cursor] = code
            output[cursor + 1] = UInt8(chunk)
            if chunk > 0 {
                (output.baseAddress! + cursor + 2).update(from: records.baseAddress! + source, count: chunk)
            }
            cursor += 2 + chunk
            source += chunk
            remaining -= chunk
        } while remaining > 0
        return cursor
    }
}
