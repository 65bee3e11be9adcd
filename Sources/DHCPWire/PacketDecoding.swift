/// Decoding a datagram, hardened: input with no usable header throws a `WireError`; a truncated
/// trailing option is left out, as the peers do (docs/PROTOCOL.md §1.1 and §6 items 17, 18).
extension DHCPPacket {
    /// Decodes a datagram. Throws `WireError.malformedPacket` when it is shorter than 240 bytes, has no
    /// magic cookie at or after offset 236, has `hlen` above 16, or has an empty option 53.
    /// An option cut off by the end of the datagram (no length byte, or a length running past the
    /// end) is ignored with everything after it, and described in `truncatedOption`; the options in
    /// the `file` and `sname` fields option 52 names are read the same way (`appendOverloadedOptions`).
    /// Inlinable so that callers specialise it: the generic entry otherwise reaches the bytes through
    /// protocol witnesses on every call.
    @inlinable
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

    @usableFromInline
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
        var truncation: TruncatedOption?
        var seen = CodeSet()
        var duplicates = false
        // Record offsets of the options decoding itself reads (53, 55, 22, 57); 0 = absent.
        var typeRecord = 0, requestRecord = 0, reassemblyRecord = 0, messageSizeRecord = 0, overloadRecord = 0
        let kept = DHCPOptions.keptOnDecode
        // The records are written into a stack buffer and copied into the array once: creating the
        // array with `unsafeUninitializedCapacity` looks up its generic metadata on every call (from
        // another module it is not specialised), and appending option by option calls the generic
        // `append(contentsOf:)` each time; either cost more than the whole parse.
        var storage: [UInt8] = []
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { out in
            let bytes = input.assumingMemoryBound(to: UInt8.self)
            out.baseAddress!.initialize(from: bytes.baseAddress!, count: 236)
            out[236] = 99; out[237] = 130; out[238] = 83; out[239] = 99
            var written = headerSize
            var position = cookie + 4
            while position < count {
                let code = bytes[position]
                if code == 0 { position += 1; continue }
                if code == 255 { break }
                guard position + 1 < count else {
                    truncation = TruncatedOption(code: code, offset: position, declaredLength: nil, remaining: 0, area: .options)
                    break
                }
                let length = Int(bytes[position + 1])
                let valueStart = position + 2
                guard valueStart + length <= count else {
                    truncation = TruncatedOption(code: code, offset: position, declaredLength: length,
                                                 remaining: count - valueStart, area: .options)
                    break
                }
                position = valueStart + length
                guard kept.contains(code) else { continue }
                if seen.contains(code) { duplicates = true } else { seen.insert(code) }
                switch code {
                case 53: typeRecord = written
                case 55: requestRecord = written
                case 22: reassemblyRecord = written
                case 57: messageSizeRecord = written
                case 52: overloadRecord = written
                default: break
                }
                out[written] = code
                out[written + 1] = 0
                out[written + 2] = UInt8(length)
                if length > 0 {
                    (out.baseAddress! + written + 3).initialize(from: bytes.baseAddress! + valueStart, count: length)
                }
                written += 3 + length
            }
            storage.reserveCapacity(written)
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: out[0..<written]))
        }
        if overloadRecord != 0, storage[overloadRecord + 2] > 0 {
            // Rare: options in file/sname too; they may repeat codes, so merge as below.
            let inFields = appendOverloadedOptions(&storage, bits: storage[overloadRecord + 3])
            truncation = truncation ?? inFields
            duplicates = true
        }
        if duplicates {
            // Rare: merge repeated codes, then find the records again.
            storage = try mergeDuplicates(storage)
            var packet = try finish(DHCPPacket(storage: storage, selection: nil, maximumSize: nil))
            packet.truncatedOption = truncation
            return packet
        }
        var packet = DHCPPacket(storage: storage, selection: nil, maximumSize: nil)
        packet.truncatedOption = truncation
        if typeRecord != 0, storage[typeRecord + 2] == 0 {
            throw WireError.malformedPacket("option 53 (message type) is empty")
        }
        if requestRecord != 0 {
            packet.selection = selectionFromRequest(storage, valueStart: requestRecord + 3, length: Int(storage[requestRecord + 2]))
        }
        packet.maximumSize = maximumSize(storage, reassemblyRecord, messageSizeRecord)
        return packet
    }

    /// The slow path's end: the same derivations, looking the records up.
    private static func finish(_ decoded: DHCPPacket) throws(WireError) -> DHCPPacket {
        var packet = decoded
        if let type = packet.locate(53), type.length == 0 {
            throw WireError.malformedPacket("option 53 (message type) is empty")
        }
        if let request = packet.locate(55) {
            packet.selection = selectionFromRequest(packet.storage, valueStart: request.valueStart, length: request.length)
        }
        packet.maximumSize = maximumSize(packet.storage, packet.locate(22)?.recordStart ?? 0,
                                         packet.locate(57)?.recordStart ?? 0)
        return packet
    }

    /// Mandatory codes plus option 55's bytes; nil when 55 is empty (everything selected).
    private static func selectionFromRequest(_ storage: [UInt8], valueStart: Int, length: Int) -> CodeSet? {
        guard length > 0 else { return nil }
        var selection = mandatoryCodes
        for index in valueStart..<(valueStart + length) { selection.insert(storage[index]) }
        return selection
    }

    /// min of the non-zero values of options 22 and 57 (records at the given offsets, 0 = absent),
    /// each read as a big-endian 16-bit number (docs/PROTOCOL.md §3.3).
    private static func maximumSize(_ storage: [UInt8], _ reassemblyRecord: Int, _ messageSizeRecord: Int) -> Int? {
        func read(_ record: Int) -> Int {
            guard record != 0 else { return 0 }
            let length = Int(storage[record + 1]) << 8 | Int(storage[record + 2])
            if length == 0 { return 0 }
            if length == 1 { return Int(storage[record + 3]) }
            return Int(storage[record + 3]) << 8 | Int(storage[record + 4])
        }
        let reassembly = read(reassemblyRecord)
        let message = read(messageSizeRecord)
        switch (reassembly, message) {
        case (0, 0): return nil
        case (0, let size), (let size, 0): return size
        default: return min(reassembly, message)
        }
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
}
