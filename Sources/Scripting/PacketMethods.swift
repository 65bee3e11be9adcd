import CLua
import DHCPWire

// The packet methods (docs/SCRIPTING.md, "Packet"), called as packet:method(...). Each one resolves the
// packet (argument 1), calls DHCPWire, and reports a WireError as a Lua error naming the method.

let packetMethods: [(String, LuaFunction)] = [
    ("getOption", getOption), ("setOption", setOption), ("deleteOption", deleteOption),
    ("isOption", isOption), ("isSelectedOption", isSelectedOption), ("isRequestedOption", isSelectedOption),
    ("getSelectedOptions", getSelectedOptions), ("getRequestedOptions", getSelectedOptions),
    ("setSelectedOptions", setSelectedOptions), ("setRequestedOptions", setSelectedOptions),
    ("getHardwareAddress", getHardwareAddress), ("setHardwareAddress", setHardwareAddress),
    ("getFlag", getFlag), ("setFlag", setFlag), ("extractIPOrNone", extractIPOrNone),
    ("getDHCPMessageTypeName", getDHCPMessageTypeName), ("getDHCPMessageType", getDHCPMessageType),
    ("encodePacket", encodePacket), ("copy", copyPacket),
    ("transformToDHCPAckPacket", transformAck), ("transformToDHCPOfferPacket", transformOffer),
    ("transformToDHCPNakPacket", transformNak), ("transformToDHCPLeaseActivePacket", transformLeaseActive),
    ("transformToDHCPLeaseUnassignedPacket", transformLeaseUnassigned),
    ("transformToDHCPLeaseUnknownPacket", transformLeaseUnknown),
] + messageTypePredicates

/// A method with one result, which `push` pushes: it is given the packet (argument 1) and reads
/// any other arguments itself.
private func packetResult(
    _ L: LuaState?, _ name: StaticString, _ push: (LuaState, UnsafeMutablePointer<DHCPPacket>) throws -> Void
) -> Int32 {
    luaEntry(L, name) { L in
        try push(L, try ScriptRuntime.from(L).packetPointer(at: 1))
        return 1
    }
}

/// `packetResult` for a method on one option (argument 2).
private func optionResult(
    _ L: LuaState?, _ name: StaticString, _ push: (LuaState, UnsafeMutablePointer<DHCPPacket>, OptionID) throws -> Void
) -> Int32 {
    luaEntry(L, name) { L in
        let runtime = ScriptRuntime.from(L)
        let packet = try runtime.packetPointer(at: 1)
        try push(L, packet, try runtime.optionID(at: 2))
        return 1
    }
}

private let getOption: LuaFunction = { L in
    optionResult(L, "getOption") { L, packet, id in
        let convert = optionalFlag(L, 3, false)
        pushOptionValue(L, try wireCall { () throws(WireError) in try packet.pointee.getOption(id, convert: convert) })
    }
}

private let setOption: LuaFunction = { L in
    luaEntry(L, "setOption") { L in
        let runtime = ScriptRuntime.from(L)
        let packet = try runtime.packetPointer(at: 1)
        let id = try runtime.optionID(at: 2)
        // An integer (lease times, sizes, flags) is what scripts set most: read it inline.
        var isInteger: Int32 = 0
        let integer = lua_type(L, 3) == LUA_TNUMBER ? clua_tointegerx(L, 3, &isInteger) : 0
        let value = isInteger != 0 ? OptionInput.integer(Int64(integer)) : try optionInput(L, 3)
        let validate = optionalFlag(L, 4, true)
        let force = optionalFlag(L, 5, false)
        try wireCall { () throws(WireError) in
            try packet.pointee.setOption(id, value, validate: validate, forceSelection: force)
        }
        return 0
    }
}

/// packet:deleteOption(option), packet:isOption(option), packet:isSelectedOption(option) -> boolean.
private func optionQuery(_ L: LuaState?, _ name: StaticString, _ query: (inout DHCPPacket, OptionID) -> Bool) -> Int32 {
    optionResult(L, name) { L, packet, id in lua_pushboolean(L, query(&packet.pointee, id) ? 1 : 0) }
}

private let deleteOption: LuaFunction = { L in optionQuery(L, "deleteOption") { $0.deleteOption($1) } }
private let isOption: LuaFunction = { L in optionQuery(L, "isOption") { $0.isOption($1) } }
private let isSelectedOption: LuaFunction = { L in optionQuery(L, "isSelectedOption") { $0.isSelectedOption($1) } }

private let getSelectedOptions: LuaFunction = { L in
    luaEntry(L, "getSelectedOptions") { L in
        let packet = try ScriptRuntime.from(L).packetPointer(at: 1)
        let keys = packet.pointee.getSelectedOptions(translate: optionalFlag(L, 2, false))
        lua_createtable(L, Int32(keys.count), 0)
        for (index, key) in keys.enumerated() {
            switch key {
            case .name(let name): pushString(L, name)
            case .code(let code): lua_pushinteger(L, lua_Integer(code))
            }
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
        return 1
    }
}

private let setSelectedOptions: LuaFunction = { L in
    luaEntry(L, "setSelectedOptions") { L in
        let packet = try ScriptRuntime.from(L).packetPointer(at: 1)
        let added = try optionKeyList(L, 2)
        let removed = try optionKeyList(L, 3)
        try wireCall { () throws(WireError) in try packet.pointee.setSelectedOptions(added: added, removed: removed) }
        return 0
    }
}

private let getHardwareAddress: LuaFunction = { L in
    packetResult(L, "getHardwareAddress") { L, packet in
        pushString(L, try wireCall { () throws(WireError) in try packet.pointee.hardwareAddress() }.description)
    }
}

/// Accepts any MAC spelling, a 6-byte list (shorter lists are zero-padded) or an integer.
private let setHardwareAddress: LuaFunction = { L in
    luaEntry(L, "setHardwareAddress") { L in
        let packet = try ScriptRuntime.from(L).packetPointer(at: 1)
        if var bytes = byteList(L, 2), bytes.count < 6 {
            bytes += [UInt8](repeating: 0, count: 6 - bytes.count)
            packet.pointee.setHardwareAddress(try wireCall { () throws(WireError) in try MAC(bytes: bytes) })
        } else {
            packet.pointee.setHardwareAddress(try requireMAC(L, 2, "argument 1"))
        }
        return 0
    }
}

private let getFlag: LuaFunction = { L in
    packetResult(L, "getFlag") { L, packet in
        let bit = try requireInteger(L, 2, "the flag bit")
        lua_pushboolean(L, packet.pointee.getFlag(UInt16(truncatingIfNeeded: bit)) ? 1 : 0)
    }
}

/// packet:setFlag(bit, state) -> changed, previous
private let setFlag: LuaFunction = { L in
    luaEntry(L, "setFlag") { L in
        let packet = try ScriptRuntime.from(L).packetPointer(at: 1)
        let bit = try requireInteger(L, 2, "the flag bit")
        let result = packet.pointee.setFlag(UInt16(truncatingIfNeeded: bit), lua_toboolean(L, 3) != 0)
        lua_pushboolean(L, result.changed ? 1 : 0)
        lua_pushboolean(L, result.previous ? 1 : 0)
        return 2
    }
}

private let extractIPOrNone: LuaFunction = { L in
    optionResult(L, "extractIPOrNone") { L, packet, id in
        pushIPv4(L, try wireCall { () throws(WireError) in try packet.pointee.extractIPOrNone(id) })
    }
}

private let getDHCPMessageTypeName: LuaFunction = { L in
    packetResult(L, "getDHCPMessageTypeName") { L, packet in pushString(L, packet.pointee.getDHCPMessageTypeName()) }
}

/// The option 53 value, or -1 when absent.
private let getDHCPMessageType: LuaFunction = { L in
    packetResult(L, "getDHCPMessageType") { L, packet in
        lua_pushinteger(L, packet.pointee.firstByte(ofOption: 53).map { lua_Integer($0) } ?? -1)
    }
}

private let encodePacket: LuaFunction = { L in
    packetResult(L, "encodePacket") { L, packet in pushBytesAsString(L, packet.pointee.encode()) }
}

/// packet:copy(): an independent packet owned by Lua, sharing the request's meta.
private let copyPacket: LuaFunction = { L in
    luaEntry(L, "copy") { L in
        let runtime = ScriptRuntime.from(L)
        let (packet, requestID) = try runtime.resolvePacket(at: 1)
        let raw = clua_newuserdata(L, MemoryLayout<PacketBox>.stride)!
        raw.bindMemory(to: PacketBox.self, capacity: 1).initialize(to: PacketBox(requestID: requestID, owned: packet.pointee))
        runtime.pushRef(runtime.calls.pointee.packetMetatableRef)
        lua_setmetatable(L, -2)
        return 1
    }
}

private func transform(_ L: LuaState?, _ name: StaticString, _ body: @escaping (inout DHCPPacket) -> Void) -> Int32 {
    luaEntry(L, name) { L in
        body(&(try ScriptRuntime.from(L).packetPointer(at: 1).pointee))
        return 0
    }
}

private let transformAck: LuaFunction = { L in transform(L, "transformToDHCPAckPacket") { $0.transformToAck() } }
private let transformOffer: LuaFunction = { L in transform(L, "transformToDHCPOfferPacket") { $0.transformToOffer() } }
private let transformNak: LuaFunction = { L in transform(L, "transformToDHCPNakPacket") { $0.transformToNak() } }
private let transformLeaseActive: LuaFunction = { L in
    transform(L, "transformToDHCPLeaseActivePacket") { $0.transformToLeaseActive() }
}
private let transformLeaseUnassigned: LuaFunction = { L in
    transform(L, "transformToDHCPLeaseUnassignedPacket") { $0.transformToLeaseUnassigned() }
}
private let transformLeaseUnknown: LuaFunction = { L in
    transform(L, "transformToDHCPLeaseUnknownPacket") { $0.transformToLeaseUnknown() }
}

private func predicate(_ L: LuaState?, _ body: (DHCPPacket) -> Bool) -> Int32 {
    packetResult(L, "isDHCP...Packet") { L, packet in lua_pushboolean(L, body(packet.pointee) ? 1 : 0) }
}

private let messageTypePredicates: [(String, LuaFunction)] = [
    ("isDHCPDiscoverPacket", { L in predicate(L) { $0.isDHCPDiscoverPacket } }),
    ("isDHCPOfferPacket", { L in predicate(L) { $0.isDHCPOfferPacket } }),
    ("isDHCPRequestPacket", { L in predicate(L) { $0.isDHCPRequestPacket } }),
    ("isDHCPDeclinePacket", { L in predicate(L) { $0.isDHCPDeclinePacket } }),
    ("isDHCPAckPacket", { L in predicate(L) { $0.isDHCPAckPacket } }),
    ("isDHCPNakPacket", { L in predicate(L) { $0.isDHCPNakPacket } }),
    ("isDHCPReleasePacket", { L in predicate(L) { $0.isDHCPReleasePacket } }),
    ("isDHCPInformPacket", { L in predicate(L) { $0.isDHCPInformPacket } }),
    ("isDHCPLeaseQueryPacket", { L in predicate(L) { $0.isDHCPLeaseQueryPacket } }),
    ("isDHCPLeaseUnassignedPacket", { L in predicate(L) { $0.isDHCPLeaseUnassignedPacket } }),
    ("isDHCPLeaseUnknownPacket", { L in predicate(L) { $0.isDHCPLeaseUnknownPacket } }),
    ("isDHCPLeaseActivePacket", { L in predicate(L) { $0.isDHCPLeaseActivePacket } }),
]

/// packet.meta, packet.response_ip/_port/_mac/_source_port, word_align, word_size, terminal_pad.
/// Reached only for keys that are not methods, and for a `meta` that clua_packet_index (C) could
/// not serve itself (a copy, the first use in a request, a stale packet).
let packetGetProperty: LuaFunction = { L in
    luaEntry(L, "packet") { L in
        let runtime = ScriptRuntime.from(L)
        let (packet, requestID) = try runtime.resolvePacket(at: 1)
        guard lua_type(L, 2) == LUA_TSTRING else {
            throw LuaArgumentError("a packet has no property \(describe(L, 2)); read options with packet:getOption(code)")
        }
        // `meta` is what scripts read most: recognised by the address of the interned key.
        if lua_tolstring(L, 2, nil) == runtime.calls.pointee.metaKey {
            runtime.pushMeta(requestID: requestID)
            return 1
        }
        switch stringValue(L, 2) ?? "" {
        case "response_ip": pushIPv4(L, packet.pointee.responseIP)
        case "response_mac": pushMAC(L, packet.pointee.responseMAC)
        case "response_port":
            if let port = packet.pointee.responsePort { lua_pushinteger(L, lua_Integer(port)) } else { lua_pushnil(L) }
        case "response_source_port":
            if let port = packet.pointee.responseSourcePort { lua_pushinteger(L, lua_Integer(port)) } else { lua_pushnil(L) }
        case "word_align": lua_pushboolean(L, packet.pointee.wordAlign ? 1 : 0)
        case "terminal_pad": lua_pushboolean(L, packet.pointee.terminalPad ? 1 : 0)
        case "word_size": lua_pushinteger(L, 4)
        default:
            // A typo or a Python habit (`packet.yiaddr`) would otherwise read nil and go unnoticed.
            let key = stringValue(L, 2) ?? ""
            throw LuaArgumentError("a packet has no property '\(key)'; header fields and options are read with packet:getOption(\"\(key)\")")
        }
        return 1
    }
}

private func optionalPort(_ L: LuaState, _ key: String) throws(LuaArgumentError) -> UInt16? {
    if lua_type(L, 3) == LUA_TNIL || (lua_type(L, 3) == LUA_TBOOLEAN && lua_toboolean(L, 3) == 0) { return nil }
    let port = try requireInteger(L, 3, key)
    guard (1...65535).contains(port) else { throw LuaArgumentError("\(key) must be a port 1...65535 or nil, got \(port)") }
    return UInt16(port)
}

let packetSetProperty: LuaFunction = { L in
    luaEntry(L, "packet") { L in
        let packet = try ScriptRuntime.from(L).packetPointer(at: 1)
        let key = try requireString(L, 2, "a packet property name")
        let clear = lua_type(L, 3) == LUA_TNIL || (lua_type(L, 3) == LUA_TBOOLEAN && lua_toboolean(L, 3) == 0)
        switch key {
        case "response_ip": packet.pointee.responseIP = clear ? nil : try requireIPv4(L, 3, key)
        case "response_mac": packet.pointee.responseMAC = clear ? nil : try requireMAC(L, 3, key)
        case "response_port": packet.pointee.responsePort = try optionalPort(L, key)
        case "response_source_port": packet.pointee.responseSourcePort = try optionalPort(L, key)
        case "word_align": packet.pointee.wordAlign = lua_toboolean(L, 3) != 0
        case "terminal_pad": packet.pointee.terminalPad = lua_toboolean(L, 3) != 0
        case "meta": throw LuaArgumentError("packet.meta cannot be replaced; store values in it (packet.meta.key = value)")
        default:
            throw LuaArgumentError("packets have no settable property '\(key)' (use setOption for options and header fields)")
        }
        return 0
    }
}
