import CLua
import DHCPWire

/// The memory of a packet userdata made by `packet:copy()`: a packet Lua owns. The hooks' own
/// packets are light userdata tokens instead (see `PacketSlot`).
struct PacketBox {
    /// Keys `packet.meta` (shared by every hook of one request, and by copies of its packets).
    var requestID: UInt64
    var owned: DHCPPacket
}

extension ScriptRuntime {
    func installPacketType() {
        luaL_newmetatable(L, "staticdhcpd.packet")
        // __index: methods first (a raw table lookup in C), then properties through Swift.
        lua_createtable(L, 0, 48)
        for (name, function) in packetMethods { setFunction(L, name, function) }
        lua_pushinteger(L, lua_Integer(DHCPPacket.broadcastFlag))
        lua_setfield(L, -2, "FLAGBIT_BROADCAST")
        pushString(L, "meta")
        pushRef(calls.pointee.metasRef)
        clua_pushpacketindexer(L, unsafeBitCast(packetGetProperty, to: clua_SwiftFunction.self), hookPackets)
        lua_setfield(L, -2, "__index")
        setFunction(L, "__newindex", packetSetProperty)
        setFunction(L, "__tostring", packetToString)
        setFunction(L, "__gc", packetCollect)
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable")
        // Light userdata share one metatable per state: the hooks' packet tokens get this one.
        // (Nothing else in the state shows scripts a light userdata, except debug.upvalueid and
        // function upvalues through the debug library; those are refused as packets.)
        lua_pushlightuserdata(L, nil)
        lua_pushvalue(L, -2)
        lua_setmetatable(L, -2)
        clua_pop(L, 1)
        calls.pointee.packetMetatableRef = clua_ref(L)
        lua_pushinteger(L, lua_Integer(DHCPPacket.broadcastFlag))
        clua_setglobal(L, "FLAGBIT_BROADCAST")

        pushString(L, "meta")
        calls.pointee.metaKey = lua_tolstring(L, -1, nil)
        calls.pointee.metaKeyRef = clua_ref(L)
    }

    /// Makes `packet` visible to Lua in `slot` while `body` runs, under a token no other call uses.
    @inline(__always)
    func bind<R>(_ packet: inout DHCPPacket, slot: Int, requestID: UInt64, _ body: () throws(ScriptError) -> R) throws(ScriptError) -> R {
        calls.pointee.epoch &+= 1
        return try rebind(&packet, slot: slot, token: PacketToken.make(epoch: calls.pointee.epoch, slot: slot), requestID: requestID, body)
    }

    /// Pushes the token of the packet bound to `slot`.
    @inline(__always) func pushPacket(_ slot: Int) {
        lua_pushlightuserdata(L, UnsafeMutableRawPointer(bitPattern: calls.pointee[slot: slot].token))
    }

    /// The packet at `index` and its request id; throws when it is not a packet or its hook returned.
    @inline(__always)
    func resolvePacket(at index: Int32) throws(LuaArgumentError) -> (packet: UnsafeMutablePointer<DHCPPacket>, requestID: UInt64) {
        let type = lua_type(L, index)
        if type == LUA_TLIGHTUSERDATA {
            let bits = UInt(bitPattern: lua_touserdata(L, index))
            let calls = self.calls
            if bits == calls.pointee.primary.token, let packet = calls.pointee.primary.packet {
                return (packet, calls.pointee.primary.requestID)
            }
            if bits == calls.pointee.source.token, let packet = calls.pointee.source.packet {
                return (packet, calls.pointee.source.requestID)
            }
            if PacketToken.isToken(bits) {
                throw LuaArgumentError("this packet is no longer available: packets are valid only while their hook runs (use packet:copy() to keep one)")
            }
        } else if type == LUA_TUSERDATA, let raw = userdata(at: index, metatable: calls.pointee.packetMetatableRef) {
            let box = raw.assumingMemoryBound(to: PacketBox.self)
            let owned = (raw + MemoryLayout<PacketBox>.offset(of: \PacketBox.owned)!).assumingMemoryBound(to: DHCPPacket.self)
            return (owned, box.pointee.requestID)
        }
        throw LuaArgumentError("expected a packet (call methods as packet:method(...)), got \(describe(L, index))")
    }

    /// The packet behind the value at `index` (see `resolvePacket`).
    @inline(__always)
    func packetPointer(at index: Int32) throws(LuaArgumentError) -> UnsafeMutablePointer<DHCPPacket> {
        try resolvePacket(at: index).packet
    }

    /// Pushes the request's `meta` table, creating it on first use.
    func pushMeta(requestID: UInt64) {
        pushRef(calls.pointee.metasRef)
        let key = lua_Integer(bitPattern: requestID)
        if lua_rawgeti(L, -1, key) == LUA_TNIL {
            calls.pointee.metasUsed = true
            clua_pop(L, 1)
            lua_createtable(L, 0, 4)
            lua_pushvalue(L, -1)
            lua_rawseti(L, -3, key)
        }
        clua_remove(L, -2)
    }

    /// Forgets the `packet.meta` table of a finished request.
    public func endRequest(_ requestID: UInt64) {
        // The engine ends every request; most scripts never make a meta table at all.
        guard calls.pointee.metasUsed else { return }
        pushRef(calls.pointee.metasRef)
        lua_pushnil(L)
        lua_rawseti(L, -2, lua_Integer(bitPattern: requestID))
        clua_pop(L, 1)
    }
}

extension clua_HookPackets {
    /// Mirrors a slot of `CallState` for clua_packet_index.
    @inline(__always) mutating func set(slot: Int, token: UInt, requestID: UInt64) {
        if slot == 0 {
            self.token.0 = token
            request.0 = lua_Integer(bitPattern: requestID)
        } else {
            self.token.1 = token
            request.1 = lua_Integer(bitPattern: requestID)
        }
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
        return .list(try arrayItems(L, lua_absindex(L, index)) { (_) throws(LuaArgumentError) in
            try optionInput(L, -1, depth: depth + 1)
        })
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
    return try arrayItems(L, index) { (_) throws(LuaArgumentError) in try optionKey(L, -1) }
}

func wireCall<T>(_ body: () throws(WireError) -> T) throws(LuaArgumentError) -> T {
    do { return try body() } catch { throw LuaArgumentError(error.description) }
}

private let packetCollect: LuaFunction = { L in collectUserdata(L, PacketBox.self) }

/// A userdata's `__gc`: deinitializes the Swift value its memory holds (Lua frees the memory).
func collectUserdata<T>(_ L: LuaState?, _: T.Type) -> Int32 {
    guard let L, let raw = lua_touserdata(L, 1) else { return 0 }
    raw.assumingMemoryBound(to: T.self).deinitialize(count: 1)
    return 0
}

private let packetToString: LuaFunction = { L in
    luaEntry(L, "packet") { L in
        pushString(L, try ScriptRuntime.from(L).packetPointer(at: 1).pointee.description)
        return 1
    }
}
