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
    luaEntry(L, "listToIPs") { L in
        pushStringList(L, Conversions.listToIPs(try requireByteList(L, 1, "argument 1")).map(\.description))
        return 1
    }
}

private let ipToList: LuaFunction = { L in
    luaEntry(L, "ipToList") { L in
        pushByteList(L, try requireIPv4(L, 1, "argument 1").bytes)
        return 1
    }
}

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

/// listToInt, listToLong: a byte list in, one integer out.
private func listToInteger(_ L: LuaState?, _ name: StaticString, _ convert: ([UInt8]) -> Int64) -> Int32 {
    luaEntry(L, name) { L in
        lua_pushinteger(L, lua_Integer(convert(try requireByteList(L, 1, "argument 1"))))
        return 1
    }
}

/// listToInts, listToLongs: a byte list in, a list of integers out.
private func listToIntegers(_ L: LuaState?, _ name: StaticString, _ convert: ([UInt8]) -> [Int64]) -> Int32 {
    luaEntry(L, name) { L in
        pushIntegerList(L, convert(try requireByteList(L, 1, "argument 1")))
        return 1
    }
}

/// intToList, longToList: one integer in, its bytes out.
private func integerToList(_ L: LuaState?, _ name: StaticString, _ convert: (Int64) -> [UInt8]) -> Int32 {
    luaEntry(L, name) { L in
        pushByteList(L, convert(Int64(try requireInteger(L, 1, "argument 1"))))
        return 1
    }
}

/// intsToList, longsToList: a list of integers in, their bytes out.
private func integersToList(_ L: LuaState?, _ name: StaticString, _ convert: ([Int64]) -> [UInt8]) -> Int32 {
    luaEntry(L, name) { L in
        pushByteList(L, convert(try integerList(L, 1, "argument 1")))
        return 1
    }
}

private let listToInt: LuaFunction = { L in listToInteger(L, "listToInt") { Conversions.listToInt($0) } }
private let listToInts: LuaFunction = { L in listToIntegers(L, "listToInts", Conversions.listToInts) }
private let listToLong: LuaFunction = { L in listToInteger(L, "listToLong") { Conversions.listToLong($0) } }
private let listToLongs: LuaFunction = { L in listToIntegers(L, "listToLongs", Conversions.listToLongs) }
private let intToList: LuaFunction = { L in integerToList(L, "intToList", Conversions.intToList) }
private let intsToList: LuaFunction = { L in integersToList(L, "intsToList", Conversions.intsToList) }
private let longToList: LuaFunction = { L in integerToList(L, "longToList", Conversions.longToList) }
private let longsToList: LuaFunction = { L in integersToList(L, "longsToList", Conversions.longsToList) }

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
