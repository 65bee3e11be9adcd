import CLua
import DHCPWire

/// What every hook call reads or writes: the hooks present, the limits, the registry references
/// of the hooks and metatables, the two packet slots and the option-name cache.
///
/// The runtime keeps this behind a `let` pointer (`calls`) instead of in `var` properties: Swift
/// checks exclusive access to a class's `var` properties at run time, one `swift_beginAccess`
/// call (about 70 instructions) per access, and a hook call made a dozen of them, more than the
/// Lua call itself cost. The runtime's threading contract (one serial caller at a time) is what
/// makes unchecked access sound here.
struct CallState {
    var hooks = HookPresence()
    /// Limits of the current phase: the constructor's for the top level, the settings' afterwards.
    var limits: ScriptLimits
    /// Registry references of the five hook functions, in `HookPresence.names` order.
    var hookRefs: [Int32] = Array(repeating: LUA_NOREF, count: 5)
    /// The table of per-request `packet.meta` tables, keyed by request id.
    var metasRef: Int32 = LUA_NOREF
    /// The prelude's `private.stats` list (statistics handlers), asked about once per packet.
    var statsListRef: Int32 = LUA_NOREF
    /// Whether any `packet.meta` table was ever made (until then `endRequest` has nothing to drop).
    var metasUsed = false
    var packetMetatableRef: Int32 = LUA_NOREF
    var definitionMetatableRef: Int32 = LUA_NOREF
    var rfcMetatableRef: Int32 = LUA_NOREF
    /// A Lua table from option and field names to `OptionIDCode` numbers: Lua strings are interned
    /// and hashed once, so this lookup is far cheaper than making a Swift String and resolving it.
    var optionIDsRef: Int32 = LUA_NOREF
    /// The hook's packet (slot 0) and `source_packet` (slot 1) during the current call.
    var primary = PacketSlot()
    var source = PacketSlot()
    /// Counts bound packets, so that every call shows Lua a packet value it has never seen before.
    var epoch: UInt = 0
    /// The interned Lua string "meta" (anchored by `metaKeyRef`): `packet.meta` is recognised by
    /// comparing the key's address, without making a Swift String.
    var metaKey: UnsafePointer<CChar>?
    var metaKeyRef: Int32 = LUA_NOREF
    /// The method string pushed last, and the registry slot holding it as a Lua string.
    var lastMethod = ""
    var lastMethodRef: Int32 = LUA_NOREF
    /// Option names already resolved, by the address of their interned Lua string (see `optionID`).
    var nameCache = OptionNameCache()

    @inline(__always) subscript(slot slot: Int) -> PacketSlot {
        get { slot == 0 ? primary : source }
        set { if slot == 0 { primary = newValue } else { source = newValue } }
    }

    init(limits: ScriptLimits) {
        self.limits = limits
    }
}

/// One packet a hook call shows to Lua.
///
/// A hook's packet is not a userdata but a light userdata *token*: a number that names the slot
/// and the call. Pushing one allocates nothing, and a script that keeps a packet past its hook
/// holds a token no later call will ever match: it gets "no longer available" instead of another
/// request's packet.
struct PacketSlot {
    /// The caller's packet; nil outside the call.
    var packet: UnsafeMutablePointer<DHCPPacket>?
    /// The token Lua sees for this call; 0 (no token) outside the call.
    var token: UInt = 0
    /// Keys `packet.meta`.
    var requestID: UInt64 = 0
}

/// Token bits: a fixed tag in the top 16 bits (a non-canonical address on x86-64 and AArch64, so no
/// real pointer a library pushes can look like a packet), the call's epoch, and the slot in bit 0.
enum PacketToken {
    static let tag: UInt = 0x5D1C << 48
    static let tagMask: UInt = 0xFFFF << 48
    static let epochMask: UInt = (1 << 47) - 1

    @inline(__always) static func make(epoch: UInt, slot: Int) -> UInt {
        tag | ((epoch & epochMask) << 1) | UInt(slot & 1)
    }

    @inline(__always) static func isToken(_ bits: UInt) -> Bool { bits & tagMask == tag }
}

/// A direct-mapped cache from the address of an interned Lua string to the option it names.
///
/// Sound because only names found in the name table are cached, and only short strings (which Lua
/// interns: one object per content): such a string is then a key of that table, which the registry
/// keeps for the state's lifetime, so its address is never reused for another string.
struct OptionNameCache {
    /// Lua 5.4 interns strings up to LUAI_MAXSHORTLEN (40) bytes; longer ones are separate objects.
    static let shortStringLimit = 40
    private static let size = 64
    private var addresses = [UInt](repeating: 0, count: size)
    private var codes = [lua_Integer](repeating: 0, count: size)

    @inline(__always) private static func index(_ address: UInt) -> Int { Int(truncatingIfNeeded: (address >> 4) & UInt(size - 1)) }

    @inline(__always) func code(for address: UInt) -> lua_Integer? {
        let index = Self.index(address)
        return addresses[index] == address ? codes[index] : nil
    }

    mutating func remember(_ address: UInt, code: lua_Integer) {
        let index = Self.index(address)
        addresses[index] = address
        codes[index] = code
    }
}

/// `OptionID`s as Lua integers, for the name table: option codes are themselves (1...254), header
/// fields are `fieldBase` plus their index in `HeaderField.allCases`.
enum OptionIDCode {
    static let fieldBase = 1000
    private static let fields = HeaderField.allCases

    static func code(of id: OptionID) -> lua_Integer {
        switch id {
        case .option(let code): lua_Integer(code)
        case .field(let field): lua_Integer(fieldBase + fields.firstIndex(of: field)!)
        }
    }

    static func id(_ code: lua_Integer) -> OptionID? {
        if code >= 1 && code <= 254 { return .option(UInt8(code)) }
        let index = Int(code) - fieldBase
        guard index >= 0 && index < fields.count else { return nil }
        return .field(fields[index])
    }
}

extension ScriptRuntime {
    /// Builds the name table of `CallState.optionIDsRef`: option names, then header field names
    /// (which win, as in `OptionID.init`).
    func installOptionNames() {
        lua_createtable(L, 0, 256)
        for code in UInt8(1)...254 {
            guard let name = DHCPOptions.name(of: code) else { continue }
            lua_pushinteger(L, OptionIDCode.code(of: .option(code)))
            lua_setfield(L, -2, name)
        }
        for field in HeaderField.allCases {
            lua_pushinteger(L, OptionIDCode.code(of: .field(field)))
            lua_setfield(L, -2, field.rawValue)
        }
        calls.pointee.optionIDsRef = clua_ref(L)
    }

    /// The option or field named (a string) or numbered (an integer) by the value at `index`.
    func optionID(at index: Int32) throws(LuaArgumentError) -> OptionID {
        switch lua_type(L, index) {
        case LUA_TSTRING:
            var length = 0
            let address = UInt(bitPattern: lua_tolstring(L, index, &length))
            if let code = calls.pointee.nameCache.code(for: address), let found = OptionIDCode.id(code) { return found }
            pushRef(calls.pointee.optionIDsRef)
            lua_pushvalue(L, index)
            var code: lua_Integer?
            if lua_rawget(L, -2) == LUA_TNUMBER { code = clua_tointegerx(L, -1, nil) }
            clua_pop(L, 2)
            if let code, let found = OptionIDCode.id(code) {
                if length <= OptionNameCache.shortStringLimit { calls.pointee.nameCache.remember(address, code: code) }
                return found
            }
            // Not a known name: let DHCPWire say so, in its words.
            let name = stringValue(L, index) ?? ""
            return try wireCall { () throws(WireError) in try OptionID(.name(name)) }
        case LUA_TNUMBER:
            if let code = integerValue(L, index) {
                if code >= 1 && code <= 254 { return .option(UInt8(code)) }
                return try wireCall { () throws(WireError) in try OptionID(.code(Int64(code))) }
            }
        default: break
        }
        throw LuaArgumentError("an option is named by a string (\"router\") or a code (3), got \(describe(L, index))")
    }
}
