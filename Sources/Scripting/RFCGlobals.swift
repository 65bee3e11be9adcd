import CLua
import DHCPWire

// The sixteen rfc* helpers. Encoders return an RFC userdata (`:getValue()` gives its byte array;
// `setOption` stores its bytes unchanged). Decoders take a byte array and return tables keyed by
// integer codes, without changing their argument.

extension ScriptRuntime {
    func installRFCHelpers() {
        luaL_newmetatable(L, "staticdhcpd.rfc")
        lua_createtable(L, 0, 2)
        setFunction(L, "getValue", rfcGetValue)
        setFunction(L, "equals", rfcEquals)
        lua_setfield(L, -2, "__index")
        setFunction(L, "__eq", rfcEquals)
        setFunction(L, "__tostring", rfcToString)
        setFunction(L, "__gc", rfcCollect)
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable") // scripts must not reach __gc
        calls.pointee.rfcMetatableRef = clua_ref(L)

        lua_rawgeti(L, clua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        setFunction(L, "rfc3046_decode", rfc3046Decode)
        setFunction(L, "rfc3925_decode", rfc3925Decode)
        setFunction(L, "rfc3925_125_decode", rfc3925_125Decode)
        setFunction(L, "rfc1035_plus", rfcNames)
        setFunction(L, "rfc3397_119", rfcNames)
        setFunction(L, "rfc4280_88", rfcNames)
        setFunction(L, "rfc5223_137", rfcNames)
        setFunction(L, "rfc2610_78", rfc2610_78)
        setFunction(L, "rfc2610_79", rfc2610_79)
        setFunction(L, "rfc3361_120", rfc3361_120)
        setFunction(L, "rfc3442_121", rfc3442_121)
        setFunction(L, "rfc3925_124", rfc3925_124)
        setFunction(L, "rfc3925_125", rfc3925_125)
        setFunction(L, "rfc4174_83", rfc4174_83)
        setFunction(L, "rfc5678_139", rfc5678_139)
        setFunction(L, "rfc5678_140", rfc5678_140)
        clua_pop(L, 1)
    }

    /// Pushes an RFC userdata holding `value`.
    func pushRFC(_ value: RFCValue) {
        let raw = clua_newuserdata(L, MemoryLayout<RFCValue>.stride)!
        raw.bindMemory(to: RFCValue.self, capacity: 1).initialize(to: value)
        pushRef(calls.pointee.rfcMetatableRef)
        lua_setmetatable(L, -2)
    }

    /// The RFC value at `index`, if it is an RFC userdata.
    func rfcValue(at index: Int32) -> RFCValue? {
        guard let pointer = userdata(at: index, metatable: calls.pointee.rfcMetatableRef) else { return nil }
        return pointer.assumingMemoryBound(to: RFCValue.self).pointee
    }

    /// The userdata at `index` when its metatable is the one held by `ref` (no Lua error possible).
    @inline(__always) func userdata(at index: Int32, metatable ref: Int32) -> UnsafeMutableRawPointer? {
        guard lua_type(L, index) == LUA_TUSERDATA, lua_getmetatable(L, index) != 0 else { return nil }
        pushRef(ref)
        let same = lua_rawequal(L, -1, -2) != 0
        clua_pop(L, 2)
        return same ? lua_touserdata(L, index) : nil
    }
}

private let rfcGetValue: LuaFunction = { L in
    luaEntry(L, "getValue") { L in
        guard let value = ScriptRuntime.from(L).rfcValue(at: 1) else { throw LuaArgumentError("call it as value:getValue()") }
        pushByteList(L, value.bytes)
        return 1
    }
}

/// a == b between two RFC values, or value:equals({bytes}) against a plain list.
private let rfcEquals: LuaFunction = { L in
    luaEntry(L, "equals") { L in
        let runtime = ScriptRuntime.from(L)
        let left = runtime.rfcValue(at: 1)?.bytes ?? byteList(L, 1)
        let right = runtime.rfcValue(at: 2)?.bytes ?? byteList(L, 2)
        lua_pushboolean(L, left != nil && left == right ? 1 : 0)
        return 1
    }
}

private let rfcToString: LuaFunction = { L in
    luaEntry(L, "tostring") { L in
        pushString(L, ScriptRuntime.from(L).rfcValue(at: 1)?.description ?? "<RFC>")
        return 1
    }
}

private let rfcCollect: LuaFunction = { L in collectUserdata(L, RFCValue.self) }

private let rfc3046Decode: LuaFunction = { L in
    luaEntry(L, "rfc3046_decode") { L in
        pushByteListTable(L, try wireCall { () throws(WireError) in try RFC.rfc3046_decode(try requireByteListWire(L, 1)) })
        return 1
    }
}

private let rfc3925Decode: LuaFunction = { L in
    luaEntry(L, "rfc3925_decode") { L in
        let size = integerValue(L, 2) ?? 4
        guard (1...4).contains(size) else { throw LuaArgumentError("identifier_size must be 1...4, got \(size)") }
        pushByteListTable(L, try wireCall { () throws(WireError) in try RFC.rfc3925_decode(try requireByteListWire(L, 1), identifierSize: size) })
        return 1
    }
}

private let rfc3925_125Decode: LuaFunction = { L in
    luaEntry(L, "rfc3925_125_decode") { L in
        let decoded = try wireCall { () throws(WireError) in try RFC.rfc3925_125_decode(try requireByteListWire(L, 1)) }
        lua_createtable(L, 0, Int32(decoded.count))
        for (enterprise, codes) in decoded {
            pushByteListTable(L, codes)
            lua_rawseti(L, -2, lua_Integer(enterprise))
        }
        return 1
    }
}

/// Pushes `{[key] = {bytes...}, ...}`: how the decoders hand sub-options and enterprises to Lua.
private func pushByteListTable<Key: BinaryInteger>(_ L: LuaState, _ lists: [Key: [UInt8]]) {
    lua_createtable(L, 0, Int32(lists.count))
    for (key, bytes) in lists {
        pushByteList(L, bytes)
        lua_rawseti(L, -2, lua_Integer(key))
    }
}

/// requireByteList with a WireError, for use inside `wireCall { }`.
private func requireByteListWire(_ L: LuaState, _ index: Int32) throws(WireError) -> [UInt8] {
    guard let bytes = byteList(L, index) else {
        throw WireError.invalidValue("argument \(index) must be an array of integers 0..255, got \(describe(L, index))")
    }
    return bytes
}

/// rfc1035_plus / rfc3397_119 / rfc4280_88 / rfc5223_137 ("example.org, uguu.ca"): the name the
/// function was called by does not change the bytes.
private let rfcNames: LuaFunction = { L in
    luaEntry(L, "rfc1035_plus") { L in
        let names = try requireString(L, 1, "argument 1 (comma-separated names)")
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc1035_plus(names) })
        return 1
    }
}

private func requireBoolean(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> Bool {
    guard lua_type(L, index) == LUA_TBOOLEAN else {
        throw LuaArgumentError("\(what) must be a boolean, got \(describe(L, index))")
    }
    return lua_toboolean(L, index) != 0
}

private let rfc2610_78: LuaFunction = { L in
    luaEntry(L, "rfc2610_78") { L in
        let mandatory = try requireBoolean(L, 1, "argument 1 (mandatory)")
        let addresses = try requireString(L, 2, "argument 2 (comma-separated addresses)")
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc2610_78(mandatory: mandatory, addresses) })
        return 1
    }
}

private let rfc2610_79: LuaFunction = { L in
    luaEntry(L, "rfc2610_79") { L in
        let mandatory = try requireBoolean(L, 1, "argument 1 (mandatory)")
        let scope = try stringBytes(L, 2) ?? requireByteList(L, 2, "argument 2 (the scope list)")
        ScriptRuntime.from(L).pushRFC(RFC.rfc2610_79(mandatory: mandatory, scope))
        return 1
    }
}

private let rfc3361_120: LuaFunction = { L in
    luaEntry(L, "rfc3361_120") { L in
        let servers = try requireString(L, 1, "argument 1 (comma-separated addresses or names)")
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc3361_120(servers) })
        return 1
    }
}

/// rfc3442_121({ {{"0.0.0.0", 0}, "192.0.2.1"}, ... })
private let rfc3442_121: LuaFunction = { L in
    luaEntry(L, "rfc3442_121") { L in
        let routes = try pairList(L, item: "route", shape: "{{network, prefix_length}, router}") { (position) throws(LuaArgumentError) in
            guard lua_type(L, -2) == LUA_TTABLE else { throw LuaArgumentError("route \(position): its first item must be {network, prefix_length}") }
            let router = try requireIPv4(L, -1, "route \(position): the router")
            lua_rawgeti(L, -2, 1)
            lua_rawgeti(L, -3, 2)
            defer { clua_pop(L, 2) }
            let network = try requireIPv4(L, -2, "route \(position): the network")
            let prefix = try requireInteger(L, -1, "route \(position): the prefix length")
            return (network: network, prefixLength: prefix, router: router)
        }
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc3442_121(routes) })
        return 1
    }
}

/// Iterates a table keyed by integers, calling `body` with each key and the value on top of the stack.
private func forEachIntegerKey(_ L: LuaState, _ index: Int32, _ what: String,
                               _ body: (Int) throws(LuaArgumentError) -> Void) throws(LuaArgumentError) {
    guard lua_type(L, index) == LUA_TTABLE else { throw LuaArgumentError("\(what) must be a table keyed by integers, got \(describe(L, index))") }
    let absolute = lua_absindex(L, index)
    lua_pushnil(L)
    while lua_next(L, absolute) != 0 {
        guard let key = integerValue(L, -2) else {
            clua_pop(L, 2)
            throw LuaArgumentError("\(what): keys must be integers")
        }
        do { try body(key) } catch {
            clua_pop(L, 2)
            throw error
        }
        clua_pop(L, 1)
    }
}

private let rfc3925_124: LuaFunction = { L in
    luaEntry(L, "rfc3925_124") { L in
        var classes: [UInt32: [UInt8]] = [:]
        try forEachIntegerKey(L, 1, "argument 1") { (enterprise) throws(LuaArgumentError) in
            guard (0...Int(UInt32.max)).contains(enterprise) else { throw LuaArgumentError("enterprise \(enterprise) is out of range") }
            classes[UInt32(enterprise)] = try requireByteList(L, -1, "the data of enterprise \(enterprise)")
        }
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc3925_124(classes) })
        return 1
    }
}

private let rfc3925_125: LuaFunction = { L in
    luaEntry(L, "rfc3925_125") { L in
        var vendors: [UInt32: [UInt8: [UInt8]]] = [:]
        try forEachIntegerKey(L, 1, "argument 1") { (enterprise) throws(LuaArgumentError) in
            guard (0...Int(UInt32.max)).contains(enterprise) else { throw LuaArgumentError("enterprise \(enterprise) is out of range") }
            var codes: [UInt8: [UInt8]] = [:]
            try forEachIntegerKey(L, -1, "the sub-options of enterprise \(enterprise)") { (code) throws(LuaArgumentError) in
                guard (0...255).contains(code) else { throw LuaArgumentError("sub-option \(code) is out of range 0...255") }
                codes[UInt8(code)] = try requireByteList(L, -1, "sub-option \(code) of enterprise \(enterprise)")
            }
            vendors[UInt32(enterprise)] = codes
        }
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc3925_125(vendors) })
        return 1
    }
}

private let rfc4174_83: LuaFunction = { L in
    luaEntry(L, "rfc4174_83") { L in
        let functions = Int64(try requireInteger(L, 1, "argument 1 (isns_functions)"))
        let access = Int64(try requireInteger(L, 2, "argument 2 (dd_access)"))
        let flags = Int64(try requireInteger(L, 3, "argument 3 (admin_flags)"))
        let security = Int64(try requireInteger(L, 4, "argument 4 (isns_security)"))
        let addresses = try requireString(L, 5, "argument 5 (comma-separated addresses)")
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in
            try RFC.rfc4174_83(isnsFunctions: functions, ddAccess: access, adminFlags: flags, isnsSecurity: security, addresses)
        })
        return 1
    }
}

/// Reads argument 1 as a list of two-item lists (rfc3442_121's routes, rfc5678_139/140's pairs):
/// `read` takes each item's position, with its first value at -2 and its second at -1. `item` and
/// `shape` name an item in errors ("route 2 must be {...}").
private func pairList<T>(
    _ L: LuaState, item: String, shape: String, _ read: (Int) throws(LuaArgumentError) -> T
) throws(LuaArgumentError) -> [T] {
    guard lua_type(L, 1) == LUA_TTABLE else { throw LuaArgumentError("argument 1 must be a list of \(shape), got \(describe(L, 1))") }
    return try arrayItems(L, 1) { (position) throws(LuaArgumentError) in
        guard lua_type(L, -1) == LUA_TTABLE else { throw LuaArgumentError("\(item) \(position) must be \(shape)") }
        lua_rawgeti(L, -1, 1)
        lua_rawgeti(L, -2, 2)
        defer { clua_pop(L, 2) }
        return try read(position)
    }
}

/// Reads { {code, "text"}, ... } for rfc5678_139/140.
private func codeTextPairs(_ L: LuaState, _ what: String) throws(LuaArgumentError) -> [(UInt8, String)] {
    try pairList(L, item: "item", shape: "{code, text}") { (position) throws(LuaArgumentError) in
        let code = try requireInteger(L, -2, "item \(position): the code")
        guard (0...255).contains(code) else { throw LuaArgumentError("item \(position): code \(code) is out of range 0...255") }
        return (UInt8(code), try requireString(L, -1, "item \(position): the \(what)"))
    }
}

private let rfc5678_139: LuaFunction = { L in
    luaEntry(L, "rfc5678_139") { L in
        let pairs = try codeTextPairs(L, "addresses").map { (code: $0.0, addresses: $0.1) }
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc5678_139(pairs) })
        return 1
    }
}

private let rfc5678_140: LuaFunction = { L in
    luaEntry(L, "rfc5678_140") { L in
        let pairs = try codeTextPairs(L, "names").map { (code: $0.0, names: $0.1) }
        ScriptRuntime.from(L).pushRFC(try wireCall { () throws(WireError) in try RFC.rfc5678_140(pairs) })
        return 1
    }
}
