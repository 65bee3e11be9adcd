/// The fixed BOOTP header fields scripts address by name.
public enum HeaderField: String, CaseIterable, Sendable {
    case op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file

    public var offset: Int {
        switch self {
        case .op: 0
        case .htype: 1
        case .hlen: 2
        case .hops: 3
        case .xid: 4
        case .secs: 8
        case .flags: 10
        case .ciaddr: 12
        case .yiaddr: 16
        case .siaddr: 20
        case .giaddr: 24
        case .chaddr: 28
        case .sname: 44
        case .file: 108
        }
    }

    /// Bytes reachable through the API (chaddr: only the 6 MAC bytes).
    public var size: Int {
        switch self {
        case .op, .htype, .hlen, .hops: 1
        case .xid, .ciaddr, .yiaddr, .siaddr, .giaddr: 4
        case .secs, .flags: 2
        case .chaddr: 6
        case .sname: 64
        case .file: 128
        }
    }

    public var type: OptionType {
        switch self {
        case .op, .htype, .hlen, .hops: .byte
        case .xid: .u32
        case .secs, .flags: .u16
        case .ciaddr, .yiaddr, .siaddr, .giaddr: .ipv4
        case .chaddr: .hardwareAddress
        case .sname, .file: .string
        }
    }
}

/// How a script names an option: a name (`"router"`, or a field such as `"yiaddr"`) or a code.
public enum OptionKey: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case name(String)
    case code(Int64)

    public init(stringLiteral value: String) { self = .name(value) }
    public init(integerLiteral value: Int64) { self = .code(value) }

    public var description: String {
        switch self {
        case .name(let name): "'\(name)'"
        case .code(let code): "\(code)"
        }
    }
}

/// A resolved key: a header field or an option code 1...254.
public enum OptionID: Hashable, Sendable {
    case field(HeaderField)
    case option(UInt8)

    /// Resolves a key: field names first, then option names; codes must be
    /// 1...254. Numeric strings such as `"3"` are names, and unknown.
    public init(_ key: OptionKey) throws(WireError) {
        switch key {
        case .name(let name):
            if let field = HeaderField(rawValue: name) {
                self = .field(field)
            } else if let code = DHCPOptions.code(named: name) {
                self = .option(code)
            } else {
                throw WireError.unknownOption("no option or field is named '\(name)'")
            }
        case .code(let code):
            guard (1...254).contains(code) else {
                throw WireError.unknownOption("option code \(code) is outside 1..254")
            }
            self = .option(UInt8(code))
        }
    }

    /// "option 6 (domain_name_servers)" or "field 'yiaddr'", for error messages.
    var label: String {
        switch self {
        case .field(let field): "field '\(field.rawValue)'"
        case .option(let code):
            if let name = DHCPOptions.name(of: code) { "option \(code) (\(name))" } else { "option \(code)" }
        }
    }
}

/// The script-facing packet API (docs/SCRIPTING.md, "Packet"), which the Lua bridge calls.
///
/// Decisions (for docs/SCRIPTING.md): values are returned as copies (no live aliases); `isOption`
/// and `isSelectedOption` answer true for header fields; `getSelectedOptions` with an empty
/// selection set reports nothing (matching what is sent); bool options read as byte != 0 and
/// `true` sets [1]; an `ipv4+` option set from one address stores that address; fixed-size types
/// accept any length, as in the original.
extension DHCPPacket {
    /// The raw bytes (convert=false) or the typed value (convert=true); nil when the option is absent.
    /// Header fields are always present.
    public func getOption(_ key: OptionKey, convert: Bool = false) throws(WireError) -> OptionValue? {
        try getOption(try OptionID(key), convert: convert)
    }

    /// `getOption` for a key resolved already (the Lua bridge caches name resolution).
    public func getOption(_ id: OptionID, convert: Bool = false) throws(WireError) -> OptionValue? {
        switch id {
        case .field(let field):
            let bytes = Array(storage[field.offset..<(field.offset + field.size)])
            guard convert else { return .bytes(bytes) }
            return try ValueCodec.deserialise(bytes, as: field.type, what: id.label)
        case .option(let code):
            guard let bytes = option(code) else { return nil }
            guard convert else { return .bytes(bytes) }
            switch code {
            case 82: return .relayAgent(try RFC.rfc3046_decode(bytes))
            case 124: return .vendorClasses(try RFC.rfc3925_decode(bytes))
            case 125: return .vendorSpecific(try RFC.rfc3925_125_decode(bytes))
            default:
                guard let info = DHCPOptions.info(code) else {
                    throw WireError.unknownOption("\(id.label) is unassigned")
                }
                return try ValueCodec.deserialise(bytes, as: info.type, what: id.label)
            }
        }
    }

    /// Converts and stores `value`. Fields: sname/file are zero-padded, other
    /// fields need exactly their size (`validate` does not apply). Options: the type's length check
    /// when `validate`; reserved (224-254) and unassigned codes throw. `forceSelection` adds the
    /// code to an existing selection set.
    public mutating func setOption(_ key: OptionKey, _ value: OptionInput, validate: Bool = true,
                                   forceSelection: Bool = false) throws(WireError) {
        try setOption(try OptionID(key), value, validate: validate, forceSelection: forceSelection)
    }

    /// `setOption` for a key resolved already (the Lua bridge caches name resolution).
    public mutating func setOption(_ id: OptionID, _ value: OptionInput, validate: Bool = true,
                                   forceSelection: Bool = false) throws(WireError) {
        switch id {
        case .field(let field):
            var bytes = try ValueCodec.serialise(value, as: field.type, what: id.label)
            if field == .sname || field == .file, bytes.count < field.size {
                bytes += [UInt8](repeating: 0, count: field.size - bytes.count)
            }
            guard bytes.count == field.size else {
                throw WireError.invalidValue("\(id.label) takes \(field.size) bytes, got \(bytes.count)")
            }
            for (index, byte) in bytes.enumerated() { storage[field.offset + index] = byte }
        case .option(let code):
            guard let info = DHCPOptions.info(code) else {
                throw WireError.unknownOption("\(id.label) is unassigned and cannot be set")
            }
            if case .reserved = info.type {
                throw WireError.unknownOption("\(id.label) is reserved and cannot be set")
            }
            // Scalars (an integer for a number type, an address) are written without building an
            // array, and without the label, which only error messages need.
            if let scalar = ValueCodec.scalar(value, as: info.type) {
                withUnsafeBytes(of: scalar.value.bigEndian) { raw in
                    storeRecord(code, UnsafeRawBufferPointer(rebasing: raw[(4 - scalar.width)...]))
                }
                if forceSelection { select(code) }
                return
            }
            let bytes = try ValueCodec.serialise(value, as: info.type, what: id.label)
            if validate, !info.type.acceptsLength(bytes.count) {
                throw WireError.invalidValue("\(id.label) of type \(info.type) cannot hold \(bytes.count) bytes")
            }
            guard bytes.count <= 0xFFFF else {
                throw WireError.invalidValue("\(id.label) cannot hold \(bytes.count) bytes (at most 65535)")
            }
            setOption(code, bytes: bytes)
            if forceSelection { select(code) }
        }
    }

    /// Fields are zeroed (returns true); options are removed (returns whether one was stored).
    @discardableResult
    public mutating func deleteOption(_ key: OptionKey) throws(WireError) -> Bool {
        deleteOption(try OptionID(key))
    }

    /// `deleteOption` for a key resolved already.
    @discardableResult
    public mutating func deleteOption(_ id: OptionID) -> Bool {
        switch id {
        case .field(let field):
            for index in field.offset..<(field.offset + field.size) { storage[index] = 0 }
            return true
        case .option(let code):
            return removeOption(code)
        }
    }

    /// True when the option is stored; always true for a header field.
    public func isOption(_ key: OptionKey) throws(WireError) -> Bool {
        isOption(try OptionID(key))
    }

    /// `isOption` for a key resolved already.
    public func isOption(_ id: OptionID) -> Bool {
        switch id {
        case .field: return true
        case .option(let code): return hasOption(code)
        }
    }

    /// True when the option is stored and will be sent; always true for a header field.
    public func isSelectedOption(_ key: OptionKey) throws(WireError) -> Bool {
        isSelectedOption(try OptionID(key))
    }

    /// `isSelectedOption` for a key resolved already.
    public func isSelectedOption(_ id: OptionID) -> Bool {
        switch id {
        case .field: return true
        case .option(let code): return isSelected(code)
        }
    }

    /// The stored options that will be sent, ascending by code; with `translate`, as names sorted
    /// alphabetically (reserved codes, which have no name, stay codes and come last).
    public func getSelectedOptions(translate: Bool = false) -> [OptionKey] {
        let stored = storedCodes
        let codes = stored.filter { selection?.contains($0) ?? true }
        guard translate else { return codes.map { .code(Int64($0)) } }
        let names = codes.compactMap(DHCPOptions.name(of:)).sorted()
        let unnamed = codes.filter { DHCPOptions.name(of: $0) == nil }
        return names.map { .name($0) } + unnamed.map { .code(Int64($0)) }
    }

    /// Both nil: select everything. Otherwise start from the current set (empty when everything was
    /// selected), add `added`, then take away `removed`.
    public mutating func setSelectedOptions(added: [OptionKey]? = nil, removed: [OptionKey]? = nil) throws(WireError) {
        if added == nil && removed == nil {
            selection = nil
            return
        }
        var codes = selection ?? CodeSet()
        for key in added ?? [] { codes.insert(try DHCPPacket.optionCode(key)) }
        for key in removed ?? [] { codes.remove(try DHCPPacket.optionCode(key)) }
        selection = codes
    }

    static func optionCode(_ key: OptionKey) throws(WireError) -> UInt8 {
        switch try OptionID(key) {
        case .option(let code): return code
        case .field(let field):
            throw WireError.unknownOption("'\(field.rawValue)' is a header field, not an option")
        }
    }

    public func getFlag(_ bit: UInt16) -> Bool { flags & bit != 0 }

    /// Sets or clears `bit`; returns whether it changed and its previous state.
    @discardableResult
    public mutating func setFlag(_ bit: UInt16, _ state: Bool) -> (changed: Bool, previous: Bool) {
        let previous = getFlag(bit)
        flags = state ? flags | bit : flags & ~bit
        return (previous != state, previous)
    }

    /// The field or option as an address: nil when absent, empty or all zero; throws when it holds
    /// 1-3 bytes that are not all zero.
    public func extractIPOrNone(_ key: OptionKey) throws(WireError) -> IPv4? {
        try extractIPOrNone(try OptionID(key))
    }

    /// `extractIPOrNone` for a key resolved already.
    public func extractIPOrNone(_ id: OptionID) throws(WireError) -> IPv4? {
        guard case .bytes(let bytes)? = try getOption(id), !bytes.allSatisfy({ $0 == 0 }) else { return nil }
        guard bytes.count >= 4 else {
            throw WireError.invalidValue("\(id.label) holds \(bytes.count) bytes, too few for an IPv4 address")
        }
        return try IPv4(bytes: bytes)
    }
}
