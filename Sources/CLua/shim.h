/* Shim between Swift and Debian's Lua 5.4 (liblua5.4-dev).
 *
 * Lua's API uses many function-like macros that Swift cannot import; the static inline
 * wrappers below give them names Swift can call. The trampoline exists because Lua raises
 * errors with longjmp, which must never unwind through a Swift frame: Swift functions
 * exposed to Lua return CLUA_RAISE after pushing an error value, and the trampoline (a C
 * frame) calls lua_error once the Swift frame has returned.
 */
#ifndef CLUA_SHIM_H
#define CLUA_SHIM_H

#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>
#include <lua5.4/lauxlib.h>

/* ---- macro wrappers ---- */
static inline int clua_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int clua_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void clua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void clua_newtable(lua_State *L) { lua_newtable(L); }
static inline int clua_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline const char *clua_tostring(lua_State *L, int idx) { return lua_tostring(L, idx); }
static inline lua_Number clua_tonumber(lua_State *L, int idx) { return lua_tonumber(L, idx); }
static inline lua_Integer clua_tointeger(lua_State *L, int idx) { return lua_tointeger(L, idx); }
static inline int clua_isnil(lua_State *L, int idx) { return lua_isnil(L, idx); }
static inline int clua_isnone(lua_State *L, int idx) { return lua_isnone(L, idx); }
static inline int clua_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline int clua_istable(lua_State *L, int idx) { return lua_istable(L, idx); }
static inline int clua_isfunction(lua_State *L, int idx) { return lua_isfunction(L, idx); }
static inline int clua_isboolean(lua_State *L, int idx) { return lua_isboolean(L, idx); }
static inline void clua_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void clua_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void clua_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline int clua_getglobal(lua_State *L, const char *name) { return lua_getglobal(L, name); }
static inline void clua_setglobal(lua_State *L, const char *name) { lua_setglobal(L, name); }
static inline int clua_loadbuffer(lua_State *L, const char *buf, size_t len, const char *name) {
    return luaL_loadbufferx(L, buf, len, name, "t");
}
static inline void *clua_getextraspace(lua_State *L) { return lua_getextraspace(L); }

/* ---- the Swift trampoline ---- */

/* Returned by a Swift function (after pushing the error value) to make the trampoline raise. */
#define CLUA_RAISE (-1)

typedef int (*clua_SwiftFunction)(lua_State *L);

static inline int clua_trampoline(lua_State *L) {
    clua_SwiftFunction fn = (clua_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1));
    int results = fn(L);
    if (results < 0) {
        return lua_error(L); /* longjmp from this C frame; the Swift frame has already returned */
    }
    return results;
}

/* Pushes a closure calling `fn` through the trampoline. `extra` upvalues already on the stack
 * become upvalues 2..extra+1 of the closure (upvalue 1 is the function pointer). */
static inline void clua_pushswiftclosure(lua_State *L, clua_SwiftFunction fn, int extra) {
    lua_pushlightuserdata(L, (void *)fn);
    if (extra > 0) {
        lua_insert(L, -(extra + 1));
    }
    lua_pushcclosure(L, clua_trampoline, extra + 1);
}

#endif
