import CLua
import DHCPWire

/// The memory of a packet userdata. The two boxes the hooks use are made once and reused: they
/// point into `CallState.packetSlots`, which is bound to the caller's `inout` packet only for the duration
/// of the call. `packet:copy()` makes a box that owns its packet instead.
struct PacketBox {
    /// Index into `CallState.packetSlots`, or -1 when `owned` holds the packet.
    var slot: Int32
    /// Keys `packet.meta` (shared by every hook of one request).
    var requestID: UInt64
    var owned: DHCPPacket?
}

extension ScriptRuntime {
    func installPacketType() {
        luaL_newmetatable(L, "staticdhcpd.packet")
        // __index: methods first (a raw table lookup in C), then properties through Swift.
        lua_createtable(L, 0, 48)
        for (name, function) in packetMethods { setFunction(L, name, function) }
        lua_pushinteger(L, lua_Integer(DHCPPacket.broadcastFlag))
        lua_setfield(L, -2, "FLAGBIT_BROADCAST")
        clua_pushswiftclosure(L, packetGetProperty, 0)
        clua_pushindexer(L)
        lua_setfield(L, -2, "__index")
        setFunction(L, "__newindex", packetSetProperty)
        setFunction(L, "__tostring", packetToString)
        setFunction(L, "__gc", packetCollect)
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable")
        calls.pointee.packetMetatableRef = clua_ref(L)
        lua_pushinteger(L, lua_Integer(DHCPPacket.broadcastFlag))
        clua_setglobal(L, "FLAGBIT_BROADCAST")

        for slot in 0..<2 {
            let raw = clua_newuserdata(L, MemoryLayout<PacketBox>.stride)!
            let box = raw.bindMemory(to: PacketBox.self, capacity: 1)
            box.initialize(to: PacketBox(slot: Int32(slot), requestID: 0, owned: nil))
            pushRef(calls.pointee.packetMetatableRef)
            lua_setmetatable(L, -2)
            calls.pointee.packetBoxes.append(raw)
            calls.pointee.packetBoxRefs[slot] = clua_ref(L)
        }
    }

    /// Makes `packet` visible to Lua as the box of `slot` while `body` runs.
    @inline(__always)
    func bind<R>(_ packet: inout DHCPPacket, slot: Int, requestID: UInt64, _ body: () throws(ScriptError) -> R) throws(ScriptError) -> R {
        try withUnsafeMutablePointer(to: &packet) { (pointer) throws(ScriptError) -> R in
            calls.pointee.packetSlots[slot] = pointer
            calls.pointee.packetBoxes[slot].assumingMemoryBound(to: PacketBox.self).pointee.requestID = requestID
            defer { calls.pointee.packetSlots[slot] = nil }
            return try body()
        }
    }

    @inline(__always) func pushPacketBox(_ slot: Int) { pushRef(calls.pointee.packetBoxRefs[slot]) }

    /// The packet behind the userdata at `index`; throws when it is not a packet or its hook returned.
    func packetPointer(at index: Int32) throws(LuaArgumentError) -> UnsafeMutablePointer<DHCPPacket> {
        // The hooks' two boxes are recognised by address, without fetching and comparing metatables.
        if lua_type(L, index) == LUA_TUSERDATA, let raw = lua_touserdata(L, index) {
            for slot in 0..<2 where calls.pointee.packetBoxes[slot] == raw {
                guard let pointer = calls.pointee.packetSlots[slot] else {
                    throw LuaArgumentError("this packet is no longer available: packets are valid only while their hook runs")
                }
                return pointer
            }
        }
        guard let raw = userdata(at: index, metatable: calls.pointee.packetMetatableRef) else {
            throw LuaArgumentError("expected a packet (call methods as packet:method(...)), got \(describe(L, index))")
        }
        let box = raw.assumingMemoryBound(to: PacketBox.self)
        if box.pointee.slot < 0 {
            return withUnsafeMutablePointer(to: &box.pointee.owned) { optional in
                // `owned` is always set for slot -1; reach its payload in place.
                UnsafeMutableRawPointer(optional).assumingMemoryBound(to: DHCPPacket.self)
            }
        }
        guard let pointer = calls.pointee.packetSlots[Int(box.pointee.slot)] else {
            throw LuaArgumentError("this packet is no longer available: packets are valid only while their hook runs")
        }
        return pointer
    }

    func packetBox(at index: Int32) -> UnsafeMutablePointer<PacketBox>? {
        userdata(at: index, metatable: calls.pointee.packetMetatableRef)?.assumingMemoryBound(to: PacketBox.self)
    }

    /// Pushes the request's `meta` table, creating it on first use.
    func pushMeta(requestID: UInt64) {
        pushRef(calls.pointee.metasRef)
        let key = lua_Integer(bitPattern: requestID)
        if lua_rawgeti(L, -1, key) == LUA_TNIL {
            clua_pop(L, 1)
            lua_createtable(L, 0, 4)
            lua_pushvalue(L, -1)
            lua_rawseti(L, -3, key)
        }
        clua_remove(L, -2)
    }

    /// Forgets the `packet.meta` table of a finished request.
    public func endRequest(_ requestID: UInt64) {
        pushRef(calls.pointee.metasRef)
        lua_pushnil(L)
        lua_rawseti(L, -2, lua_Integer(bitPattern: requestID))
        clua_pop(L, 1)
    }
}

// MARK: - Lua values <-> wire values

/// The option name or code at `index`.
func optionKey(_ L: LuaState, _ index: Int32) throws(LuaArgumentError) -> OptionKey {
    if let name = stringValue(L, index) { return .name(name) }
    if let code = integerValue(L, index) { return .code(Int64(code)) }
    throw LuaArgumentError("an option is named by a string (\"router\") or a code (3), got \(describe(L, index))")
}

/// A Lua value as setOption input: integers, floats, strings (bytes), booleans, arrays, rfc values.
func optionInput(_ L: LuaState, _ index: Int32, depth: Int = 0) throws(LuaArgumentError) -> OptionInput {
    switch lua_type(L, index) {
    case LUA_TNUMBER:
        if let integer = integerValue(L, index) { return .integer(Int64(integer)) }
        return .number(lua_tonumberx(L, index, nil))
    case LUA_TSTRING: return .bytes(stringBytes(L, index) ?? [])
    case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
    case LUA_TUSERDATA:
        if let value = ScriptRuntime.from(L).rfcValue(at: index) { return .rfc(value) }
    case LUA_TTABLE:
        guard depth < 4 else { break }
        let absolute = lua_absindex(L, index)
        let count = Int(lua_rawlen(L, absolute))
        var items: [OptionInput] = []
        items.reserveCapacity(count)
        for position in 0..<count {
            lua_rawgeti(L, absolute, lua_Integer(position + 1))
            defer { clua_pop(L, 1) }
            items.append(try optionInput(L, -1, depth: depth + 1))
        }
        return .list(items)
    default: break
    }
    throw LuaArgumentError("cannot use \(describe(L, index)) as an option value")
}

/// Pushes a value read with getOption. Addresses are strings (a zero address alone is nil).
func pushOptionValue(_ L: LuaState, _ value: OptionValue?) {
    guard let value else { lua_pushnil(L); return }
    switch value {
    case .integer(let integer): lua_pushinteger(L, lua_Integer(integer))
    case .integers(let integers): pushIntegerList(L, integers)
    case .ipv4(let address): pushIPv4(L, address)
    case .ipv4s(let addresses): pushStringList(L, addresses.map(\.description))
    case .byteString(let bytes): pushBytesAsString(L, bytes)
    case .bytes(let bytes): pushByteList(L, bytes)
    case .bool(let flag): lua_pushboolean(L, flag ? 1 : 0)
    case .empty: lua_createtable(L, 0, 0)
    case .relayAgent(let codes):
        lua_createtable(L, 0, Int32(codes.count))
        for (code, bytes) in codes { pushByteList(L, bytes); lua_rawseti(L, -2, lua_Integer(code)) }
    case .vendorClasses(let classes):
        lua_createtable(L, 0, Int32(classes.count))
        for (enterprise, bytes) in classes { pushByteList(L, bytes); lua_rawseti(L, -2, lua_Integer(enterprise)) }
    case .vendorSpecific(let vendors):
        lua_createtable(L, 0, Int32(vendors.count))
        for (enterprise, codes) in vendors {
            lua_createtable(L, 0, Int32(codes.count))
            for (code, bytes) in codes { pushByteList(L, bytes); lua_rawseti(L, -2, lua_Integer(code)) }
            lua_rawseti(L, -2, lua_Integer(enterprise))
        }
    }
}

/// An optional boolean argument (nil/none gives `fallback`; other values by Lua truthiness).
@inline(__always) func optionalFlag(_ L: LuaState, _ index: Int32, _ fallback: Bool) -> Bool {
    let type = lua_type(L, index)
    if type == LUA_TNONE || type == LUA_TNIL { return fallback }
    return lua_toboolean(L, index) != 0
}

/// A list of option keys (names or codes), or nil for none/nil.
func optionKeyList(_ L: LuaState, _ relativeIndex: Int32) throws(LuaArgumentError) -> [OptionKey]? {
    let index = lua_absindex(L, relativeIndex)
    let type = lua_type(L, index)
    if type == LUA_TNONE || type == LUA_TNIL { return nil }
    guard type == LUA_TTABLE else { return [try optionKey(L, index)] }
    var keys: [OptionKey] = []
    let count = Int(lua_rawlen(L, index))
    for position in 0..<count {
        lua_rawgeti(L, index, lua_Integer(position + 1))
        defer { clua_pop(L, 1) }
        keys.append(try optionKey(L, -1))
    }
    return keys
}

func wireCall<T>(_ body: () throws(WireError) -> T) throws(LuaArgumentError) -> T {
    do { return try body() } catch { throw LuaArgumentError(error.description) }
}

private let packetCollect: LuaFunction = { L in
    guard let L, let raw = lua_touserdata(L, 1) else { return 0 }
    raw.assumingMemoryBound(to: PacketBox.self).deinitialize(count: 1)
    return 0
}

private let packetToString: LuaFunction = { L in
    luaEntry(L, "packet") { L in
        pushString(L, try ScriptRuntime.from(L).packetPointer(at: 1).pointee.description)
        return 1
    }
}
