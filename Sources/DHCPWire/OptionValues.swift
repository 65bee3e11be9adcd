/// A value handed to `setOption` by a script (a Lua value, once the bridge has looked at it).
/// Not `indirect`: `list` recurses through an array, which is indirect already, and an indirect
/// enum puts every value, even `.integer`, in a heap box of its own.
public enum OptionInput: Sendable, Equatable {
    case integer(Int64)
    /// A Lua float; accepted wherever an integer is when it is integral.
    case number(Double)
    /// A Lua string: raw bytes, which text-based types read as text.
    case bytes([UInt8])
    case bool(Bool)
    /// A Lua array. When every element is an integer 0...255 it is stored as raw bytes (the raw-list rule).
    case list([OptionInput])
    case rfc(RFCValue)
    case ipv4(IPv4)
    case mac(MAC)

    /// Convenience for Swift callers: a string's UTF-8 bytes.
    public static func text(_ text: String) -> OptionInput { .bytes(Array(text.utf8)) }

    /// The raw bytes when this is a list of integers 0...255 (the raw-list rule), else nil.
    var rawBytes: [UInt8]? {
        guard case .list(let items) = self else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .integer(let value):
                guard let byte = UInt8(exactly: value) else { return nil }
                bytes.append(byte)
            case .number(let value):
                guard let integral = OptionInput.exactInteger(value), let byte = UInt8(exactly: integral) else { return nil }
                bytes.append(byte)
            default:
                return nil
            }
        }
        return bytes
    }

    /// The integer this input denotes (integral floats and booleans count), or a descriptive error.
    func integer(_ what: String) throws(WireError) -> Int64 {
        switch self {
        case .integer(let value): return value
        case .number(let value):
            guard let exact = OptionInput.exactInteger(value) else {
                throw WireError.invalidValue("\(what) needs an integer, got \(value)")
            }
            return exact
        case .bool(let value): return value ? 1 : 0
        default: throw WireError.invalidValue("\(what) needs an integer, got \(kindName)")
        }
    }

    /// `value` as an integer when it is integral and in range (done by hand: the Double rounding
    /// functions would pull libm into every executable that links this module).
    static func exactInteger(_ value: Double) -> Int64? {
        guard value.isFinite, value >= -9.2e18, value <= 9.2e18 else { return nil }
        let integral = Int64(value)
        return Double(integral) == value ? integral : nil
    }

    var kindName: String {
        switch self {
        case .integer: "an integer"
        case .number: "a number"
        case .bytes: "a string"
        case .bool: "a boolean"
        case .list: "a list"
        case .rfc(let value): "an \(value.name) value"
        case .ipv4: "an IPv4 address"
        case .mac: "a MAC address"
        }
    }
}

/// A value read with `getOption(_:convert:)`.
public enum OptionValue: Sendable, Equatable {
    case integer(Int64)
    case integers([Int64])
    case ipv4(IPv4)
    case ipv4s([IPv4])
    /// Text-typed value (string options, sname, file): a Lua string.
    case byteString([UInt8])
    /// Raw bytes (every value read without `convert`, and byte+ options): a Lua array.
    case bytes([UInt8])
    case bool(Bool)
    /// A present option of type "none" (80, rapid commit), which has no value.
    case empty
    /// Option 82 decoded by `rfc3046_decode`.
    case relayAgent([UInt8: [UInt8]])
    /// Option 124 decoded by `rfc3925_decode`.
    case vendorClasses([UInt32: [UInt8]])
    /// Option 125 decoded by `rfc3925_125_decode`.
    case vendorSpecific([UInt32: [UInt8: [UInt8]]])
}

/// Serialisers and deserialisers of the option value types (`OptionType`).
enum ValueCodec {
    /// The common scalar cases of `serialise` (an integer for a byte, bool, 16- or 32-bit type, an
    /// address or an integer for an address type), as a value and its width in bytes (1, 2 or 4),
    /// so that setting them builds no array. Nil means "use `serialise`", which also reports errors.
    static func scalar(_ input: OptionInput, as type: OptionType) -> (value: UInt32, width: Int)? {
        switch (input, type) {
        case (.ipv4(let address), .ipv4), (.ipv4(let address), .ipv4Plus), (.ipv4(let address), .ipv4Star):
            return (address.value, 4)
        case (.bool(let flag), .bool):
            return (flag ? 1 : 0, 1)
        case (.integer(let value), .u32):
            return (UInt32(truncatingIfNeeded: value), 4)
        case (.integer(let value), .u16):
            return (UInt32(UInt16(truncatingIfNeeded: value)), 2)
        case (.integer(let value), .bool):
            return (value != 0 ? 1 : 0, 1)
        case (.integer(let value), .byte), (.integer(let value), .bytePlus):
            guard let byte = UInt8(exactly: value) else { return nil }
            return (UInt32(byte), 1)
        case (.integer(let value), .ipv4), (.integer(let value), .ipv4Plus), (.integer(let value), .ipv4Star):
            guard let address = UInt32(exactly: value) else { return nil }
            return (address, 4)
        default:
            return nil
        }
    }

    /// `input` as bytes for a value of `type`. `what` names the target in errors.
    static func serialise(_ input: OptionInput, as type: OptionType, what: String) throws(WireError) -> [UInt8] {
        if let raw = input.rawBytes { return raw }
        if case .rfc(let value) = input { return value.bytes }
        switch type {
        case .ipv4:
            return try addressBytes(input, what: what)
        case .ipv4Plus, .ipv4Star:
            switch input {
            case .bytes(let text): return try Conversions.ipsToList(String(decoding: text, as: UTF8.self))
            case .list(let items):
                var bytes: [UInt8] = []
                for item in items { bytes += try addressBytes(item, what: what) }
                return bytes
            default: return try addressBytes(input, what: what)
            }
        case .byte:
            return [try byteValue(input, what: what)]
        case .bytePlus:
            switch input {
            case .bytes(let bytes): return bytes
            case .mac(let mac): return mac.bytes
            case .list: throw WireError.invalidValue("\(what) needs bytes 0..255 in its list")
            default: return [try byteValue(input, what: what)]
            }
        case .string:
            guard case .bytes(let bytes) = input else {
                throw WireError.invalidValue("\(what) needs a string, got \(input.kindName)")
            }
            return bytes
        case .bool:
            if case .bool(let flag) = input { return [flag ? 1 : 0] }
            return [try input.integer(what) != 0 ? 1 : 0]
        case .u16:
            return Conversions.intToList(try input.integer(what))
        case .u32:
            return Conversions.longToList(try input.integer(what))
        case .u16Plus, .identifier:
            if case .bytes(let bytes) = input, type == .identifier { return bytes }
            return Conversions.intsToList(try integers(input, what: what))
        case .u32Plus:
            return Conversions.longsToList(try integers(input, what: what))
        case .none:
            return []
        case .hardwareAddress:
            switch input {
            case .mac(let mac): return mac.bytes
            case .bytes(let text): return try MAC.parse(String(decoding: text, as: UTF8.self)).bytes
            default: throw WireError.invalidValue("\(what) needs a MAC address, got \(input.kindName)")
            }
        case .rfc(let name):
            throw WireError.invalidValue("\(what) has type \(name): give raw bytes or an rfc helper's value, not \(input.kindName)")
        case .reserved:
            throw WireError.unknownOption("\(what) is reserved and cannot be set")
        }
    }

    static func addressBytes(_ input: OptionInput, what: String) throws(WireError) -> [UInt8] {
        switch input {
        case .ipv4(let address): return address.bytes
        case .bytes(let text): return try Conversions.ipToList(String(decoding: text, as: UTF8.self))
        case .integer, .number:
            let value = try input.integer(what)
            guard let exact = UInt32(exactly: value) else {
                throw WireError.invalidValue("\(what): \(value) is outside the IPv4 range")
            }
            return IPv4(exact).bytes
        case .list:
            guard let raw = input.rawBytes, raw.count >= 4 else {
                throw WireError.invalidValue("\(what) needs an address: 4 integers 0..255, a dotted string or an integer")
            }
            return Array(raw.prefix(4))
        default:
            throw WireError.invalidValue("\(what) needs an IPv4 address, got \(input.kindName)")
        }
    }

    static func byteValue(_ input: OptionInput, what: String) throws(WireError) -> UInt8 {
        let value = try input.integer(what)
        guard let byte = UInt8(exactly: value) else {
            throw WireError.invalidValue("\(what) needs a byte 0..255, got \(value)")
        }
        return byte
    }

    static func integers(_ input: OptionInput, what: String) throws(WireError) -> [Int64] {
        guard case .list(let items) = input else { return [try input.integer(what)] }
        var values: [Int64] = []
        for item in items { values.append(try item.integer(what)) }
        return values
    }

    /// `bytes` read as `type` (convert=true). Types with no converter throw.
    static func deserialise(_ bytes: [UInt8], as type: OptionType, what: String) throws(WireError) -> OptionValue {
        switch type {
        case .ipv4:
            guard bytes.count >= 4 else {
                throw WireError.invalidValue("\(what) holds \(bytes.count) bytes, too few for an IPv4 address")
            }
            return .ipv4(try IPv4(bytes: bytes))
        case .ipv4Plus, .ipv4Star: return .ipv4s(Conversions.listToIPs(bytes))
        case .byte:
            guard let first = bytes.first else { throw WireError.invalidValue("\(what) is empty") }
            return .integer(Int64(first))
        case .bytePlus: return .bytes(bytes)
        case .string: return .byteString(bytes)
        case .bool: return .bool((bytes.first ?? 0) != 0)
        case .u16: return .integer(Conversions.listToInt(bytes))
        case .u16Plus, .identifier: return .integers(Conversions.listToInts(bytes))
        case .u32: return .integer(Conversions.listToLong(bytes))
        case .u32Plus: return .integers(Conversions.listToLongs(bytes))
        case .none: return .empty
        case .rfc, .reserved, .hardwareAddress:
            throw WireError.invalidValue("\(what) has type \(type), which has no converter; read it without convert")
        }
    }
}
