import CLua

/// A raw `lua_State *`. Only the runtime owns one; everything else borrows it during a call.
typealias LuaState = OpaquePointer

/// A Swift function callable from Lua through the CLua trampoline. It must never call anything
/// that raises a Lua error (luaL_check*, lua_error, lua_gettable with metamethods): it reports
/// failure by pushing a message and returning `CLUA_RAISE`, and the trampoline raises after this
/// Swift frame has returned.
typealias LuaFunction = @convention(c) (LuaState?) -> Int32

/// A failure inside a Swift function exposed to Lua; turned into a Lua error by `luaEntry`.
struct LuaArgumentError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Runs `body` for a Swift function exposed to Lua: a thrown `LuaArgumentError` (or any error)
/// becomes a pushed message and `CLUA_RAISE`, so the trampoline raises it once we have returned.
@inline(__always)
func luaEntry(_ L: LuaState?, _ name: StaticString, _ body: (LuaState) throws -> Int32) -> Int32 {
    guard let L else { return 0 }
    do {
        return try body(L)
    } catch let error as LuaArgumentError {
        pushString(L, "\(name): \(error.message)")
        return CLUA_RAISE
    } catch {
        pushString(L, "\(name): \(error)")
        return CLUA_RAISE
    }
}

@inline(__always) func pushString(_ L: LuaState, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            clua_pushstring_len(L, chars.baseAddress, chars.count)
        }
    }
}

@inline(__always) func pushBytesAsString(_ L: LuaState, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            clua_pushstring_len(L, chars.baseAddress, chars.count)
        }
    }
}

/// Pushes a 1-based Lua array of integers.
func pushByteList(_ L: LuaState, _ bytes: [UInt8]) {
    lua_createtable(L, Int32(bytes.count), 0)
    for (index, byte) in bytes.enumerated() {
        lua_pushinteger(L, lua_Integer(byte))
        lua_rawseti(L, -2, lua_Integer(index + 1))
    }
}

func pushIntegerList<T: BinaryInteger>(_ L: LuaState, _ values: [T]) {
    lua_createtable(L, Int32(values.count), 0)
    for (index, value) in values.enumerated() {
        lua_pushinteger(L, lua_Integer(value))
        lua_rawseti(L, -2, lua_Integer(index + 1))
    }
}

func pushStringList(_ L: LuaState, _ values: [String]) {
    lua_createtable(L, Int32(values.count), 0)
    for (index, value) in values.enumerated() {
        pushString(L, value)
        lua_rawseti(L, -2, lua_Integer(index + 1))
    }
}

/// The Lua type name of the value at `index`, for error messages.
func typeName(_ L: LuaState, _ index: Int32) -> String {
    String(cString: lua_typename(L, lua_type(L, index)))
}

/// A string at `index` (numbers are not coerced: settings and arguments say what they want).
func stringValue(_ L: LuaState, _ index: Int32) -> String? {
    guard lua_type(L, index) == LUA_TSTRING else { return nil }
    var length = 0
    guard let chars = lua_tolstring(L, index, &length) else { return nil }
    return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
}

/// The raw bytes of a Lua string at `index`.
func stringBytes(_ L: LuaState, _ index: Int32) -> [UInt8]? {
    guard lua_type(L, index) == LUA_TSTRING else { return nil }
    var length = 0
    guard let chars = lua_tolstring(L, index, &length) else { return nil }
    return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
        Array(UnsafeBufferPointer(start: $0, count: length))
    }
}

/// An integer at `index`: a Lua integer, or a float with an exact integer value.
func integerValue(_ L: LuaState, _ index: Int32) -> Int? {
    guard lua_type(L, index) == LUA_TNUMBER else { return nil }
    var isInteger: Int32 = 0
    let value = clua_tointegerx(L, index, &isInteger)
    return isInteger != 0 ? Int(value) : nil
}

func requireString(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> String {
    guard let value = stringValue(L, index) else {
        throw LuaArgumentError("\(what) must be a string, got \(typeName(L, index))")
    }
    return value
}

func requireInteger(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> Int {
    guard let value = integerValue(L, index) else {
        throw LuaArgumentError("\(what) must be an integer, got \(describe(L, index))")
    }
    return value
}

/// A short description of a value for error messages: its type, and the value when short.
func describe(_ L: LuaState, _ index: Int32) -> String {
    switch lua_type(L, index) {
    case LUA_TNUMBER:
        if let integer = integerValue(L, index) { return "number \(integer)" }
        return "number \(lua_tonumberx(L, index, nil))"
    case LUA_TSTRING:
        let text = stringValue(L, index) ?? ""
        return "string \"\(text.count > 40 ? String(text.prefix(40)) + "..." : text)\""
    case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0 ? "true" : "false"
    default: return typeName(L, index)
    }
}

/// The items of the 1-based array at the absolute `index`, up to its raw length: each read by
/// `read` (given its position) while it is on top of the stack, and popped after.
func arrayItems<T, E: Error>(_ L: LuaState, _ index: Int32, _ read: (Int) throws(E) -> T) throws(E) -> [T] {
    let count = Int(lua_rawlen(L, index))
    var items: [T] = []
    items.reserveCapacity(count)
    for position in 1...max(count, 1) where count > 0 {
        lua_rawgeti(L, index, lua_Integer(position))
        defer { clua_pop(L, 1) }
        items.append(try read(position))
    }
    return items
}

/// Reads a 1-based array of byte integers at `index`; nil when it is not one.
func byteList(_ L: LuaState, _ relativeIndex: Int32) -> [UInt8]? {
    let index = lua_absindex(L, relativeIndex)
    guard lua_type(L, index) == LUA_TTABLE else { return nil }
    let count = Int(lua_rawlen(L, index))
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    for position in 0..<count {
        lua_rawgeti(L, index, lua_Integer(position + 1))
        defer { clua_pop(L, 1) }
        guard let value = integerValue(L, -1), (0...255).contains(value) else { return nil }
        bytes.append(UInt8(value))
    }
    // Tables with extra keys (a dict) are not byte lists.
    lua_pushnil(L)
    var keys = 0
    let absolute = lua_absindex(L, index)
    while lua_next(L, absolute) != 0 {
        clua_pop(L, 1)
        keys += 1
        if keys > count { clua_pop(L, 1); return nil }
    }
    return bytes
}

/// Requires a byte list; the message names the argument.
func requireByteList(_ L: LuaState, _ index: Int32, _ what: String) throws(LuaArgumentError) -> [UInt8] {
    guard let bytes = byteList(L, index) else {
        throw LuaArgumentError("\(what) must be an array of integers 0..255, got \(describe(L, index))")
    }
    return bytes
}

/// Sets `table[name] = fn` for the table on top of the stack.
func setFunction(_ L: LuaState, _ name: String, _ function: LuaFunction) {
    clua_pushswiftclosure(L, unsafeBitCast(function, to: clua_SwiftFunction.self), 0)
    lua_setfield(L, -2, name)
}

func setGlobalFunction(_ L: LuaState, _ name: String, _ function: LuaFunction) {
    clua_pushswiftclosure(L, unsafeBitCast(function, to: clua_SwiftFunction.self), 0)
    clua_setglobal(L, name)
}
