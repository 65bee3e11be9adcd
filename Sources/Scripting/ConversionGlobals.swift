import CLua
import DHCPWire

// The conversion functions in their Lua forms: byte lists are 1-based arrays of
// integers, addresses are canonical strings, byte strings are Lua strings. All backed by DHCPWire.

extension ScriptRuntime {
    func installConversions() {
        lua_rawgeti(L, clua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        setFunction(L, "listToIP", listToIP)
        setFunction(L, "listToIPs", listToIPs)
        setFunction(L, "ipToList", ipToList)
        setFunction(L, "ipsToList", ipsToList)
        setFunction(L, "listToNumber", listToNumber)
        setFunction(L, "listToInt", listToInt)
        setFunction(L, "listToInts", listToInts)
        setFunction(L, "listToLong", listToLong)
        setFunction(L, "listToLongs", listToLongs)
        setFunction(L, "intToList", intToList)
        setFunction(L, "intsToList", intsToList)
        setFunction(L, "longToList", longToList)
        setFunction(L, "longsToList", longsToList)
        setFunction(L, "strToList", strToList)
        setFunction(L, "strToPaddedList", strToPaddedList)
        setFunction(L, "listToStr", listToStr)
        clua_pop(L, 1)
    }
}

/// A list of integers (any range: the 16/32-bit encoders mask), for intsToList/longsToList.
func integerList(_ L: LuaState, _ relativeIndex: Int32, _ what: String) throws(LuaArgumentError) -> [Int64] {
    let index = lua_absindex(L, relativeIndex)
    guard lua_type(L, index) == LUA_TTABLE else {
        throw LuaArgumentError("\(what) must be an array of integers, got \(describe(L, index))")
    }
    return try arrayItems(L, index) { (position) throws(LuaArgumentError) in
        guard let value = integerValue(L, -1) else {
            throw LuaArgumentError("\(what): item \(position) must be an integer, got \(describe(L, -1))")
        }
        return Int64(value)
    }
}

private let listToIP: LuaFunction = { L in
    luaEntry(L, "listToIP") { L in
        let bytes = try requireByteList(L, 1, "argument 1")
        do { pushString(L, try Conversions.listToIP(bytes).description) } catch { throw LuaArgumentError("\(error)") }
        return 1
    }
}

private let listToIPs: LuaFunction = { L in
    conversion(L, "listToIPs", requireByteList, { Conversions.listToIPs($0).map(\.description) }, pushStringList)
}

private let ipToList: LuaFunction = { L in conversion(L, "ipToList", requireIPv4, \.bytes, pushByteList) }

private let ipsToList: LuaFunction = { L in
    luaEntry(L, "ipsToList") { L in
        if let text = stringValue(L, 1) {
            do { pushByteList(L, try Conversions.ipsToList(text)) } catch { throw LuaArgumentError("\(error)") }
        } else {
            pushByteList(L, Conversions.ipsToList(try ipv4ListValue(L, 1, "argument 1")))
        }
        return 1
    }
}

private let listToNumber: LuaFunction = { L in
    luaEntry(L, "listToNumber") { L in
        let bytes = try requireByteList(L, 1, "argument 1")
        do {
            let value = try Conversions.listToNumber(bytes)
            guard value <= UInt64(Int64.max) else { throw LuaArgumentError("the value does not fit a Lua integer") }
            lua_pushinteger(L, lua_Integer(value))
        } catch let error as WireError { throw LuaArgumentError("\(error)") }
        return 1
    }
}

/// A conversion of one value: argument 1 read by `read`, `convert`ed, the result pushed by `push`.
private func conversion<Input, Output>(
    _ L: LuaState?, _ name: StaticString, _ read: (LuaState, Int32, String) throws(LuaArgumentError) -> Input,
    _ convert: (Input) -> Output, _ push: (LuaState, Output) -> Void
) -> Int32 {
    luaEntry(L, name) { L in
        push(L, convert(try read(L, 1, "argument 1")))
        return 1
    }
}

/// intToList's and longToList's argument (any range: the 16/32-bit encoders mask).
private func requireInt64(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> Int64 {
    Int64(try requireInteger(L, index, what))
}

private func pushInt64(_ L: LuaState, _ value: Int64) { lua_pushinteger(L, lua_Integer(value)) }

private let listToInt: LuaFunction = { L in conversion(L, "listToInt", requireByteList, { Conversions.listToInt($0) }, pushInt64) }
private let listToInts: LuaFunction = { L in conversion(L, "listToInts", requireByteList, Conversions.listToInts, pushIntegerList) }
private let listToLong: LuaFunction = { L in conversion(L, "listToLong", requireByteList, { Conversions.listToLong($0) }, pushInt64) }
private let listToLongs: LuaFunction = { L in conversion(L, "listToLongs", requireByteList, Conversions.listToLongs, pushIntegerList) }
private let intToList: LuaFunction = { L in conversion(L, "intToList", requireInt64, Conversions.intToList, pushByteList) }
private let intsToList: LuaFunction = { L in conversion(L, "intsToList", integerList, Conversions.intsToList, pushByteList) }
private let longToList: LuaFunction = { L in conversion(L, "longToList", requireInt64, Conversions.longToList, pushByteList) }
private let longsToList: LuaFunction = { L in conversion(L, "longsToList", integerList, Conversions.longsToList, pushByteList) }

/// Argument 1 as bytes: a Lua string's, or a byte list's (strToList and strToPaddedList take either).
private func stringOrByteList(_ L: LuaState) throws(LuaArgumentError) -> [UInt8] {
    if let bytes = stringBytes(L, 1) { return bytes }
    return try requireByteList(L, 1, "argument 1 (a string)")
}

/// strToList("hi") -> {104, 105}; a table is returned as a copy (the original passes lists through).
private let strToList: LuaFunction = { L in
    luaEntry(L, "strToList") { L in
        pushByteList(L, try stringOrByteList(L))
        return 1
    }
}

private let strToPaddedList: LuaFunction = { L in
    luaEntry(L, "strToPaddedList") { L in
        let bytes = try stringOrByteList(L)
        let length = try requireInteger(L, 2, "argument 2 (the length)")
        do { pushByteList(L, try Conversions.strToPaddedList(bytes, length)) } catch { throw LuaArgumentError("\(error)") }
        return 1
    }
}

/// listToStr({104, 105}) -> "hi" (a Lua string holds bytes as they are).
private let listToStr: LuaFunction = { L in
    luaEntry(L, "listToStr") { L in
        let values = try integerList(L, 1, "argument 1")
        do { pushBytesAsString(L, try Conversions.listToStr(values)) } catch { throw LuaArgumentError("\(error)") }
        return 1
    }
}
