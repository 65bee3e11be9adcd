import CLua
import Glibc
import Testing

/// Proves that the CLua system-library target links against Debian's liblua5.4 and runs a chunk.
@Test func runsALuaChunk() throws {
    let state = try #require(luaL_newstate())
    defer { lua_close(state) }
    luaL_openlibs(state)
    let chunk = "return 6 * 7, _VERSION"
    let loaded = chunk.withCString { clua_loadbuffer(state, $0, strlen($0), "=test") }
    #expect(loaded == LUA_OK)
    #expect(clua_pcall(state, 0, 2, 0) == LUA_OK)
    #expect(clua_tointeger(state, -2) == 42)
    #expect(String(cString: clua_tostring(state, -1)) == "Lua 5.4")
}

/// A Swift function raising through the trampoline becomes a catchable Lua error.
@Test func trampolineRaisesWithoutCrossingSwift() throws {
    let state = try #require(luaL_newstate())
    defer { lua_close(state) }
    luaL_openlibs(state)
    let failing: clua_SwiftFunction = { L in
        lua_pushstring(L, "bad argument from Swift")
        return CLUA_RAISE
    }
    clua_pushswiftclosure(state, failing, 0)
    clua_setglobal(state, "fails")
    let chunk = "local ok, err = pcall(fails); return ok, err"
    let loaded = chunk.withCString { clua_loadbuffer(state, $0, strlen($0), "=test") }
    #expect(loaded == LUA_OK)
    #expect(clua_pcall(state, 0, 2, 0) == LUA_OK)
    #expect(lua_toboolean(state, -2) == 0)
    #expect(String(cString: clua_tostring(state, -1)) == "bad argument from Swift")
}
