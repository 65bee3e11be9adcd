/// Encoding (spec/wire.md §1.4), with two deliberate improvements over the original:
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
    public func encode(into out: inout [UInt8]) {
        let limit = max(maximumSize ?? 65535, DHCPPacket.minimumMessageSize) - DHCPPacket.headerSize - 68 - 3
        let mainBudget = max(limit - 1, 0)
        let selection = self.selection
        storage.withUnsafeBufferPointer { records in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 256) { offsets in
                offsets.initialize(repeating: -1)
                var position = DHCPPacket.headerSize
                while position + 3 <= records.count {
                    let code = records[position]
                    if code != 52 && (selection?.contains(code) ?? true) { offsets[Int(code)] = Int32(position) }
                    position += 3 + (Int(records[position + 1]) << 8 | Int(records[position + 2]))
                }
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { plan in
                    // plan[0..<mainCount]: codes for the options area; plan[256...]: leftovers.
                    var mainCount = 0
                    var mainUsed = 0
                    var leftoverCount = 0
                    func consider(_ code: UInt8) {
                        let offset = Int(offsets[Int(code)])
                        guard offset >= 0 else { return }
                        let size = DHCPPacket.blockSize(Int(records[offset + 1]) << 8 | Int(records[offset + 2]))
                        if mainUsed + size <= mainBudget {
                            plan[mainCount] = code
                            mainCount += 1
                            mainUsed += size
                        } else {
                            plan[256 + leftoverCount] = code
                            leftoverCount += 1
                        }
                    }
                    consider(53); consider(54); consider(51)
                    for code in 1...254 where code != 53 && code != 54 && code != 51 { consider(UInt8(code)) }

                    let total = DHCPPacket.headerSize + mainUsed + 4
                    out.removeAll(keepingCapacity: true)
                    out.append(contentsOf: repeatElement(0, count: total))
                    out.withUnsafeMutableBufferPointer { output in
                        output.baseAddress!.update(from: records.baseAddress!, count: DHCPPacket.headerSize)
                        var cursor = DHCPPacket.headerSize
                        for index in 0..<mainCount {
                            cursor = DHCPPacket.writeBlock(plan[index], records: records,
                                                           offset: Int(offsets[Int(plan[index])]), into: output, at: cursor)
                        }
                        output[cursor] = 255
                        guard leftoverCount > 0 else { return }
                        var overload: UInt8 = 0
                        var pending = Array(plan[256..<(256 + leftoverCount)])
                        for (fieldOffset, fieldSize, bit) in [(44, 64, UInt8(2)), (108, 128, UInt8(1))] where !pending.isEmpty {
                            guard records[fieldOffset..<(fieldOffset + fieldSize)].allSatisfy({ $0 == 0 }) else { continue }
                            var used = 0
                            var fieldCursor = fieldOffset
                            pending = pending.filter { code in
                                let offset = Int(offsets[Int(code)])
                                let size = DHCPPacket.blockSize(Int(records[offset + 1]) << 8 | Int(records[offset + 2]))
                                guard used + size <= fieldSize - 1 else { return true }
                                fieldCursor = DHCPPacket.writeBlock(code, records: records, offset: offset,
                                                                    into: output, at: fieldCursor)
                                used += size
                                return false
                            }
                            if used > 0 {
                                output[fieldCursor] = 255
                                overload |= bit
                            }
                        }
                        if overload != 0 {
                            output[cursor] = 52
                            output[cursor + 1] = 1
                            output[cursor + 2] = overload
                            output[cursor + 3] = 255
                        }
                    }
                }
            }
        }
    }

    /// Encoded size of a value of `length` bytes: 255-byte chunks, each with code and length.
    @inlinable static func blockSize(_ length: Int) -> Int {
        length == 0 ? 2 : length + 2 * ((length + 254) / 255)
    }

    /// Writes the record at `offset` as TLV chunks at `cursor`; returns the new cursor.
    static func writeBlock(_ code: UInt8, records: UnsafeBufferPointer<UInt8>, offset: Int,
                           into output: UnsafeMutableBufferPointer<UInt8>, at cursor: Int) -> Int {
        var remaining = Int(records[offset + 1]) << 8 | Int(records[offset + 2])
        var source = offset + 3
        var cursor = cursor
        repeat {
            let chunk = min(remaining, 255)
            output[cursor] = code
            output[cursor + 1] = UInt8(chunk)
            for index in 0..<chunk { output[cursor + 2 + index] = records[source + index] }
            cursor += 2 + chunk
            source += chunk
            remaining -= chunk
        } while remaining > 0
        return cursor
    }
}
