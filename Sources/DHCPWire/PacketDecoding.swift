/// Decoding a datagram (spec/wire.md §1.3), hardened: every malformed input throws a `WireError`.
extension DHCPPacket {
    /// Decodes a datagram. Throws `WireError.malformedPacket` when it is shorter than 240 bytes, has no
    /// magic cookie at or after offset 236, has `hlen` above 16, an option code with no length byte, an
    /// option whose length runs past the end, or an empty option 53.
    public init(decoding bytes: some Collection<UInt8>) throws(WireError) {
        let attempt: Result<DHCPPacket, WireError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WireError) in try DHCPPacket.decode(UnsafeRawBufferPointer(buffer)) }
        }
        if let attempt {
            self = try attempt.get()
        } else {
            let copy = Array(bytes)
            self = try copy.withUnsafeBytes { buffer in
                Result { () throws(WireError) in try DHCPPacket.decode(buffer) }
            }.get()
        }
    }

    /// Decodes a datagram straight from a receive buffer (see `init(decoding:)` for the errors).
    public init(decoding buffer: UnsafeRawBufferPointer) throws(WireError) {
        self = try DHCPPacket.decode(buffer)
    }

    static func decode(_ input: UnsafeRawBufferPointer) throws(WireError) -> DHCPPacket {
        let count = input.count
        guard count >= headerSize else {
            throw WireError.malformedPacket("\(count) bytes is shorter than the 240-byte BOOTP header and cookie")
        }
        guard input[2] <= 16 else {
            throw WireError.malformedPacket("hlen is \(input[2]), but chaddr holds at most 16 bytes")
        }
        guard let cookie = findCookie(input) else {
            throw WireError.malformedPacket("no DHCP magic cookie (63 82 53 63) at or after offset 236")
        }
        // Each option of length L takes 2 + L input bytes and 3 + L record bytes, so 1.5 times the
        // option area bounds the records.
        let optionArea = count - (cookie + 4)
        let capacity = headerSize + optionArea + optionArea / 2 + 2
        var failure: WireError?
        var seen = CodeSet()
        var duplicates = false
        let kept = DHCPOptions.keptOnDecode
        var storage = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            out.baseAddress!.initialize(from: input.bindMemory(to: UInt8.self).baseAddress!, count: 236)
            out[236] = 99; out[237] = 130; out[238] = 83; out[239] = 99
            var written = headerSize
            var position = cookie + 4
            while position < count {
                let code = input[position]
                if code == 0 { position += 1; continue }
                if code == 255 { break }
                guard position + 1 < count else {
                    failure = .malformedPacket("option \(code) at offset \(position) has no length byte")
                    break
                }
                let length = Int(input[position + 1])
                let valueStart = position + 2
                guard valueStart + length <= count else {
                    failure = .malformedPacket(
                        "option \(code) at offset \(position) declares \(length) bytes but only \(count - valueStart) remain")
                    break
                }
                position = valueStart + length
                guard kept.contains(code) else { continue }
                if seen.contains(code) { duplicates = true } else { seen.insert(code) }
                out[written] = code
                out[written + 1] = 0
                out[written + 2] = UInt8(length)
                if length > 0 {
                    UnsafeMutableRawPointer(out.baseAddress! + written + 3)
                        .copyMemory(from: input.baseAddress! + valueStart, byteCount: length)
                }
                written += 3 + length
            }
            initialized = written
        }
        if let failure { throw failure }
        if duplicates { storage = try mergeDuplicates(storage) }

        var packet = DHCPPacket(storage: storage, selection: nil, maximumSize: nil)
        if let type = packet.locate(53), type.length == 0 {
            throw WireError.malformedPacket("option 53 (message type) is empty")
        }
        if let request = packet.locate(55), request.length > 0 {
            var selection = mandatoryCodes
            for index in request.valueStart..<(request.valueStart + request.length) {
                selection.insert(packet.storage[index])
            }
            packet.selection = selection
        }
        packet.maximumSize = packet.clientMaximumSize()
        return packet
    }

    /// The offset of the magic cookie, searched from 236 onward (some stacks pad before it).
    private static func findCookie(_ input: UnsafeRawBufferPointer) -> Int? {
        var index = 236
        while index + 4 <= input.count {
            if input[index] == 99 && input[index + 1] == 130 && input[index + 2] == 83 && input[index + 3] == 99 {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Concatenates the values of repeated codes into the first record of each code (RFC 3396).
    private static func mergeDuplicates(_ storage: [UInt8]) throws(WireError) -> [UInt8] {
        var order: [UInt8] = []
        var values: [UInt8: [UInt8]] = [:]
        var position = headerSize
        while position + 3 <= storage.count {
            let code = storage[position]
            let length = Int(storage[position + 1]) << 8 | Int(storage[position + 2])
            if values[code] == nil { order.append(code) }
            values[code, default: []].append(contentsOf: storage[(position + 3)..<(position + 3 + length)])
            position += 3 + length
        }
        var merged = Array(storage[0..<headerSize])
        merged.reserveCapacity(storage.count)
        for code in order {
            let value = values[code]!
            guard value.count <= 0xFFFF else {
                throw WireError.malformedPacket("option \(code) repeats to more than 65535 bytes")
            }
            merged.append(code)
            merged.append(UInt8(value.count >> 8))
            merged.append(UInt8(value.count & 0xFF))
            merged.append(contentsOf: value)
        }
        return merged
    }

    /// min of the non-zero values of options 22 and 57, each read as a big-endian 16-bit number.
    func clientMaximumSize() -> Int? {
        func read(_ code: UInt8) -> Int {
            guard let location = locate(code), location.length > 0 else { return 0 }
            if location.length == 1 { return Int(storage[location.valueStart]) }
            return Int(storage[location.valueStart]) << 8 | Int(storage[location.valueStart + 1])
        }
        let reassembly = read(22)
        let message = read(57)
        switch (reassembly, message) {
        case (0, 0): return nil
        case (0, let size), (let size, 0): return size
        default: return min(reassembly, message)
        }
    }
}
