/// Raw option access over the record area of `DHCPPacket.storage`.
extension DHCPPacket {
    /// Where one option's value lives in `storage`.
    @usableFromInline struct RecordLocation {
        @usableFromInline var recordStart: Int
        @usableFromInline var valueStart: Int
        @usableFromInline var length: Int

        @usableFromInline init(recordStart: Int, valueStart: Int, length: Int) {
            self.recordStart = recordStart
            self.valueStart = valueStart
            self.length = length
        }
    }

    /// Finds the record for `code` by walking the records.
    @inlinable func locate(_ code: UInt8) -> RecordLocation? {
        storage.withUnsafeBufferPointer { buffer -> RecordLocation? in
            var position = DHCPPacket.headerSize
            let end = buffer.count
            while position + 3 <= end {
                let length = Int(buffer[position + 1]) << 8 | Int(buffer[position + 2])
                if buffer[position] == code {
                    return RecordLocation(recordStart: position, valueStart: position + 3, length: length)
                }
                position += 3 + length
            }
            return nil
        }
    }

    /// Calls `body` once per stored option, in storage order, with its code and value bytes.
    @inlinable func forEachRecord(_ body: (UInt8, UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        try storage.withUnsafeBufferPointer { buffer in
            var position = DHCPPacket.headerSize
            while position + 3 <= buffer.count {
                let length = Int(buffer[position + 1]) << 8 | Int(buffer[position + 2])
                try body(buffer[position], UnsafeBufferPointer(rebasing: buffer[(position + 3)..<(position + 3 + length)]))
                position += 3 + length
            }
        }
    }

    /// The stored value of option `code`, or nil when it is not stored.
    @inlinable public func option(_ code: UInt8) -> [UInt8]? {
        guard let location = locate(code) else { return nil }
        return Array(storage[location.valueStart..<(location.valueStart + location.length)])
    }

    /// The first byte of option `code`, without copying the value (nil when absent or empty).
    @inlinable public func firstByte(ofOption code: UInt8) -> UInt8? {
        guard let location = locate(code), location.length > 0 else { return nil }
        return storage[location.valueStart]
    }

    /// Option `code` read as an IPv4 address: nil when absent, shorter than 4 bytes, or zero.
    public func ipv4Option(_ code: UInt8) -> IPv4? {
        guard let location = locate(code), location.length >= 4 else { return nil }
        let address = IPv4(u32(at: location.valueStart))
        return address.isZero ? nil : address
    }

    /// True when option `code` is stored.
    @inlinable public func hasOption(_ code: UInt8) -> Bool { locate(code) != nil }

    /// The codes of every stored option.
    public var storedCodes: CodeSet {
        var codes = CodeSet()
        forEachRecord { code, _ in codes.insert(code) }
        return codes
    }

    /// Stores `bytes` as option `code`, replacing any previous value. Values longer than 65535 bytes
    /// cannot be represented in one datagram and are cut to that size. Codes 0 (PAD) and 255 (END)
    /// are not options and are ignored. No type check is made (see `setOption(_:_:validate:forceSelection:)`).
    public mutating func setOption(_ code: UInt8, bytes: some Collection<UInt8>) {
        guard code != 0 && code != 255 else { return }
        let stored: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            storeRecord(code, UnsafeRawBufferPointer(buffer))
        }
        if stored == nil {
            Array(bytes).withUnsafeBytes { storeRecord(code, $0) }
        }
    }

    /// Writes the record of `code` (not PAD or END): in place when a value of the same length is
    /// stored (no reallocation, no shifting), else by replacing or appending it.
    @usableFromInline mutating func storeRecord(_ code: UInt8, _ value: UnsafeRawBufferPointer) {
        let length = min(value.count, 0xFFFF)
        let bytes = UnsafeRawBufferPointer(rebasing: value[..<length])
        if let location = locate(code) {
            if location.length == length {
                storage.withUnsafeMutableBytes { buffer in
                    UnsafeMutableRawBufferPointer(rebasing: buffer[location.valueStart..<(location.valueStart + length)])
                        .copyMemory(from: bytes)
                }
            } else {
                storage.replaceSubrange(location.valueStart..<(location.valueStart + location.length), with: bytes)
                storage[location.recordStart + 1] = UInt8(length >> 8)
                storage[location.recordStart + 2] = UInt8(length & 0xFF)
            }
        } else {
            storage.append(code)
            storage.append(UInt8(length >> 8))
            storage.append(UInt8(length & 0xFF))
            storage.append(contentsOf: bytes)
        }
    }

    /// Removes option `code`; returns whether it was stored.
    @discardableResult
    public mutating func removeOption(_ code: UInt8) -> Bool {
        guard let location = locate(code) else { return false }
        storage.removeSubrange(location.recordStart..<(location.valueStart + location.length))
        return true
    }

    /// Removes every option whose code is in `codes`.
    mutating func removeOptions(_ codes: CodeSet) {
        var kept: [UInt8] = []
        kept.reserveCapacity(storage.count)
        kept.append(contentsOf: storage[0..<DHCPPacket.headerSize])
        var changed = false
        forEachRecord { code, value in
            if codes.contains(code) { changed = true; return }
            kept.append(code)
            kept.append(UInt8(value.count >> 8))
            kept.append(UInt8(value.count & 0xFF))
            kept.append(contentsOf: value)
        }
        if changed { storage = kept }
    }

    /// True when option `code` is stored and selected for emission (docs/PROTOCOL.md §3.3).
    public func isSelected(_ code: UInt8) -> Bool {
        guard hasOption(code) else { return false }
        return selection?.contains(code) ?? true
    }
}
