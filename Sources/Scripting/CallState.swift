import CLua
import DHCPWire

/// What every hook call reads or writes: the hooks present, the limits, the registry references
/// of the hooks and metatables, and the two packet slots.
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
    var packetMetatableRef: Int32 = LUA_NOREF
    var definitionMetatableRef: Int32 = LUA_NOREF
    var rfcMetatableRef: Int32 = LUA_NOREF
    /// A Lua table from option and field names to `OptionIDCode` numbers: Lua strings are interned
    /// and hashed once, so this lookup is far cheaper than making a Swift String and resolving it.
    var optionIDsRef: Int32 = LUA_NOREF
    /// The two reusable packet userdata (slot 0: the hook's packet, slot 1: source_packet).
    var packetBoxRefs: [Int32] = [LUA_NOREF, LUA_NOREF]
    /// Packets visible to Lua during the current call; nil outside a call.
    var packetSlots: [UnsafeMutablePointer<DHCPPacket>?] = [nil, nil]
    /// The memory of the two reusable packet userdata (kept alive by `packetBoxRefs`).
    var packetBoxes: [UnsafeMutableRawPointer] = []

    init(limits: ScriptLimits) {
        self.limits = limits
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
            pushRef(calls.pointee.optionIDsRef)
            lua_pushvalue(L, index)
            let found = lua_rawget(L, -2) == LUA_TNUMBER ? OptionIDCode.id(clua_tointegerx(L, -1, nil)) : nil
            clua_pop(L, 2)
            if let found { return found }
            // Not a known name: let DHCPWire say so, in its words.
            let name = stringValue(L, index) ?? ""
            return try wireCall { () throws(WireError) in try OptionID(.name(name)) }
        case LUA_TNUMBER:
            if let code = integerValue(L, index) {
                return try wireCall { () throws(WireError) in try OptionID(.code(Int64(code))) }
            }
        default: break
        }
        throw LuaArgumentError("an option is named by a string (\"router\") or a code (3), got \(describe(L, index))")
    }
}
