import CLua
import DHCPWire

// MACs and IPv4 addresses cross into Lua as canonical strings ("aa:bb:cc:dd:ee:ff", "192.0.2.10"),
// so that `mac == "aa:bb:cc:dd:ee:ff"` works as in the guide (Lua's == never calls a metamethod
// between a string and a userdata). Zero addresses are nil. The MAC and IPv4 tables give what
// plain strings cannot: other spellings, integers, ordering and subnet tests.

/// Pushes an address as its canonical string, or nil when it is absent or zero.
/// Formats into a stack buffer and pushes it: no Swift String on this hot path.
@inline(__always) func pushIPv4(_ L: LuaState, _ address: IPv4?) {
    guard let address, !address.isZero else { lua_pushnil(L); return }
    pushDottedQuad(L, address.value)
}

/// Pushes an address as its canonical string, zero included ("0.0.0.0", as `IPv4.description`).
@inline(__always) func pushDottedQuad(_ L: LuaState, _ value: UInt32) {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 16) { buffer in
        var length = 0
        for shift in stride(from: 24, through: 0, by: -8) {
            var octet = Int((value >> UInt32(shift)) & 0xFF)
            if octet >= 100 { buffer[length] = CChar(48 + octet / 100); length += 1; octet %= 100
                buffer[length] = CChar(48 + octet / 10); length += 1; octet %= 10
            } else if octet >= 10 { buffer[length] = CChar(48 + octet / 10); length += 1; octet %= 10 }
            buffer[length] = CChar(48 + octet); length += 1
            if shift > 0 { buffer[length] = 46; length += 1 }
        }
        clua_pushstring_len(L, buffer.baseAddress, length)
    }
}

private let hexDigits: (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar,
                        CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar) =
    (48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102)

@inline(__always) func pushMAC(_ L: LuaState, _ mac: MAC?) {
    guard let mac, !mac.isZero else { lua_pushnil(L); return }
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 17) { buffer in
        withUnsafeBytes(of: hexDigits) { digits in
            for index in 0..<6 {
                let byte = Int((mac.value >> UInt64(40 - 8 * index)) & 0xFF)
                buffer[index * 3] = CChar(bitPattern: digits[byte >> 4])
                buffer[index * 3 + 1] = CChar(bitPattern: digits[byte & 0x0F])
                if index < 5 { buffer[index * 3 + 2] = 58 }
            }
        }
        clua_pushstring_len(L, buffer.baseAddress, 17)
    }
}

/// An IPv4 from a Lua value: a dotted string (lenient), an integer 0...2^32-1, or a byte list of at
/// least four bytes (the first four are used). Nil when the value is none of these.
func ipv4Value(_ L: LuaState, _ index: Int32) -> IPv4? {
    switch lua_type(L, index) {
    case LUA_TSTRING:
        return stringValue(L, index).flatMap { IPv4($0) }
    case LUA_TNUMBER:
        guard let value = integerValue(L, index), value >= 0, value <= Int(UInt32.max) else { return nil }
        return IPv4(UInt32(value))
    case LUA_TTABLE:
        guard let bytes = byteList(L, index), bytes.count >= 4 else { return nil }
        return try? IPv4(bytes: bytes)
    default:
        return nil
    }
}

func requireIPv4(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> IPv4 {
    guard let address = ipv4Value(L, index) else {
        throw LuaArgumentError("\(what) must be an IPv4 address (\"192.0.2.1\", an integer or 4 bytes), got \(describe(L, index))")
    }
    return address
}

/// A list of addresses: a comma-separated string, an array of address values, or a flat array of
/// integers taken as packed octets (4 per address; the original meant this but crashed).
func ipv4ListValue(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> [IPv4] {
    switch lua_type(L, index) {
    case LUA_TNIL, LUA_TNONE:
        return []
    case LUA_TSTRING:
        let text = stringValue(L, index) ?? ""
        do {
            return try IPv4.list(text, skippingEmptyPieces: false)
        } catch {
            throw LuaArgumentError("\(what): '\(error.piece)' in \"\(text)\" is not an IPv4 address")
        }
    case LUA_TTABLE:
        if let bytes = byteList(L, index), !bytes.isEmpty {
            guard bytes.count % 4 == 0 else {
                throw LuaArgumentError("\(what): a flat list of octets needs a multiple of 4 bytes, got \(bytes.count)")
            }
            return Conversions.listToIPs(bytes)
        }
        return try arrayItems(L, lua_absindex(L, index)) { (position) throws(LuaArgumentError) in
            guard let address = ipv4Value(L, -1) else {
                throw LuaArgumentError("\(what): item \(position) is not an IPv4 address (\(describe(L, -1)))")
            }
            return address
        }
    default:
        throw LuaArgumentError("\(what) must be a list of IPv4 addresses or a comma-separated string, got \(describe(L, index))")
    }
}

/// A MAC from a Lua value: any spelling with 12 hex digits, a 6-byte list, or a 48-bit integer.
func macValue(_ L: LuaState, _ index: Int32) -> MAC? {
    switch lua_type(L, index) {
    case LUA_TSTRING:
        return stringValue(L, index).flatMap { MAC($0) }
    case LUA_TNUMBER:
        guard let value = integerValue(L, index), value >= 0, value <= 0xFFFF_FFFF_FFFF else { return nil }
        return MAC(UInt64(value))
    case LUA_TTABLE:
        guard let bytes = byteList(L, index) else { return nil }
        return try? MAC(bytes: bytes)
    default:
        return nil
    }
}

func requireMAC(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> MAC {
    guard let mac = macValue(L, index) else {
        throw LuaArgumentError("\(what) must be a MAC address (12 hex digits, 6 bytes or an integer), got \(describe(L, index))")
    }
    return mac
}

extension ScriptRuntime {
    func installAddressHelpers() {
        lua_createtable(L, 0, 10)
        setFunction(L, "parse", macParse)
        setFunction(L, "toInt", macToInt)
        setFunction(L, "fromInt", macFromInt)
        setFunction(L, "toList", macToList)
        setFunction(L, "fromList", macFromInt) // accepts any MAC value, lists included
        setFunction(L, "equals", macEquals)
        setFunction(L, "compare", macCompare)
        setFunction(L, "isValid", macIsValid)
        clua_setglobal(L, "MAC")

        lua_createtable(L, 0, 12)
        setFunction(L, "parse", ipParse)
        setFunction(L, "toInt", ipToInt)
        setFunction(L, "fromInt", ipParse)
        setFunction(L, "toList", ipToListHelper)
        setFunction(L, "fromList", ipParse)
        setFunction(L, "equals", ipEquals)
        setFunction(L, "compare", ipCompare)
        setFunction(L, "isValid", ipIsValid)
        setFunction(L, "inSubnet", ipInSubnet)
        clua_setglobal(L, "IPv4")
    }
}

/// What the MAC and IPv4 tables share: a value read from any Lua form (or required, naming the
/// argument), its integer and its bytes. Each helper below is written once over it.
private protocol LuaAddress: Comparable, CustomStringConvertible {
    /// How parse's reason names the kind: "a MAC address", "an IPv4 address".
    static var noun: String { get }
    static func read(_ L: LuaState, _ index: Int32) -> Self?
    static func require(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> Self
    var integer: lua_Integer { get }
    var bytes: [UInt8] { get }
}

extension MAC: LuaAddress {
    fileprivate static var noun: String { "a MAC address" }
    fileprivate static func read(_ L: LuaState, _ index: Int32) -> MAC? { macValue(L, index) }
    fileprivate static func require(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> MAC {
        try requireMAC(L, index, what)
    }
    fileprivate var integer: lua_Integer { lua_Integer(value) }
}

extension IPv4: LuaAddress {
    fileprivate static var noun: String { "an IPv4 address" }
    fileprivate static func read(_ L: LuaState, _ index: Int32) -> IPv4? { ipv4Value(L, index) }
    fileprivate static func require(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> IPv4 {
        try requireIPv4(L, index, what)
    }
    fileprivate var integer: lua_Integer { lua_Integer(value) }
}

/// `parse(x)` -> canonical string, or nil and a reason.
private func parseAddress<A: LuaAddress>(_ L: LuaState?, _: A.Type, _ name: StaticString) -> Int32 {
    luaEntry(L, name) { L in
        guard let address = A.read(L, 1) else {
            lua_pushnil(L)
            pushString(L, "not \(A.noun): \(describe(L, 1))")
            return 2
        }
        pushString(L, address.description)
        return 1
    }
}

private func addressIsValid<A: LuaAddress>(_ L: LuaState?, _: A.Type, _ name: StaticString) -> Int32 {
    luaEntry(L, name) { L in
        lua_pushboolean(L, A.read(L, 1) != nil ? 1 : 0)
        return 1
    }
}

/// toInt, toList, and MAC.fromInt/fromList (the canonical string): argument 1 required as an
/// address, one result pushed from it.
private func withAddress<A: LuaAddress>(
    _ L: LuaState?, _: A.Type, _ name: StaticString, push: (LuaState, A) -> Void
) -> Int32 {
    luaEntry(L, name) { L in
        push(L, try A.require(L, 1, "argument 1"))
        return 1
    }
}

private func addressEquals<A: LuaAddress>(_ L: LuaState?, _: A.Type, _ name: StaticString) -> Int32 {
    luaEntry(L, name) { L in
        let a = A.read(L, 1), b = A.read(L, 2)
        lua_pushboolean(L, a != nil && a == b ? 1 : 0)
        return 1
    }
}

private func addressCompare<A: LuaAddress>(_ L: LuaState?, _: A.Type, _ name: StaticString) -> Int32 {
    luaEntry(L, name) { L in
        let a = try A.require(L, 1, "argument 1"), b = try A.require(L, 2, "argument 2")
        lua_pushinteger(L, a < b ? -1 : a == b ? 0 : 1)
        return 1
    }
}

private let macParse: LuaFunction = { L in parseAddress(L, MAC.self, "MAC.parse") }
private let macIsValid: LuaFunction = { L in addressIsValid(L, MAC.self, "MAC.isValid") }
private let macToInt: LuaFunction = { L in withAddress(L, MAC.self, "MAC.toInt") { lua_pushinteger($0, $1.integer) } }
private let macFromInt: LuaFunction = { L in withAddress(L, MAC.self, "MAC.fromInt") { pushString($0, $1.description) } }
private let macToList: LuaFunction = { L in withAddress(L, MAC.self, "MAC.toList") { pushByteList($0, $1.bytes) } }
private let macEquals: LuaFunction = { L in addressEquals(L, MAC.self, "MAC.equals") }
private let macCompare: LuaFunction = { L in addressCompare(L, MAC.self, "MAC.compare") }

/// IPv4.fromInt and IPv4.fromList are IPv4.parse.
private let ipParse: LuaFunction = { L in parseAddress(L, IPv4.self, "IPv4.parse") }
private let ipIsValid: LuaFunction = { L in addressIsValid(L, IPv4.self, "IPv4.isValid") }
private let ipToInt: LuaFunction = { L in withAddress(L, IPv4.self, "IPv4.toInt") { lua_pushinteger($0, $1.integer) } }
private let ipToListHelper: LuaFunction = { L in withAddress(L, IPv4.self, "IPv4.toList") { pushByteList($0, $1.bytes) } }
private let ipEquals: LuaFunction = { L in addressEquals(L, IPv4.self, "IPv4.equals") }
private let ipCompare: LuaFunction = { L in addressCompare(L, IPv4.self, "IPv4.compare") }

/// IPv4.inSubnet(ip, "192.0.2.0/24"), IPv4.inSubnet(ip, "192.0.2.0", 24) or
/// IPv4.inSubnet(ip, "192.0.2.0", "255.255.255.0").
private let ipInSubnet: LuaFunction = { L in
    luaEntry(L, "IPv4.inSubnet") { L in
        let address = try requireIPv4(L, 1, "argument 1 (the address)")
        var network: IPv4
        var prefix: Int? = nil
        var mask: IPv4? = nil
        if let text = stringValue(L, 2), let slash = text.firstIndex(of: "/") {
            guard let parsed = IPv4(text[..<slash]), let length = Int(text[text.index(after: slash)...]),
                  (0...32).contains(length) else {
                throw LuaArgumentError("argument 2 must be a subnet like \"192.0.2.0/24\", got \"\(text)\"")
            }
            network = parsed
            prefix = length
        } else {
            network = try requireIPv4(L, 2, "argument 2 (the network)")
            if let length = integerValue(L, 3) {
                guard (0...32).contains(length) else { throw LuaArgumentError("argument 3: a prefix length is 0...32, got \(length)") }
                prefix = length
            } else if lua_type(L, 3) != LUA_TNONE, lua_type(L, 3) != LUA_TNIL {
                mask = try requireIPv4(L, 3, "argument 3 (a prefix length or a netmask)")
            } else {
                throw LuaArgumentError("give the subnet as \"192.0.2.0/24\", or a network and a prefix length or netmask")
            }
        }
        let member = if let mask { address.isSubnetMember(network, mask: mask) } else { address.isSubnetMember(network, prefix: prefix ?? 32) }
        lua_pushboolean(L, member ? 1 : 0)
        return 1
    }
}
