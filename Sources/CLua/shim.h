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

/* ---- limits: a capped allocator and an instruction / wall-clock budget ---- */

#include <stdlib.h>
#include <time.h>

/* State shared by the allocator, the count hook and the trampoline. One per lua_State; it is
 * the allocator's userdata, so any C function can reach it through lua_getallocf. */
typedef struct clua_Limits {
    size_t used;              /* bytes currently allocated by the state */
    size_t limit;             /* cap on `used` while Lua code runs; 0 = none */
    size_t peak;              /* highest `used` seen */
    int unlimited_depth;      /* > 0 while Swift or the message handler runs: never refuse then,
                                 because a refusal raises, and a raise must not cross Swift */
    long long instructions;   /* instructions counted in the current call */
    long long instruction_limit; /* 0 = none */
    double deadline;          /* CLOCK_MONOTONIC seconds; 0 = none */
    int tripped;              /* 1 once the budget ran out in the current call */
    int hook_step;            /* instructions between two hook calls */
} clua_Limits;

static inline double clua_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void *clua_limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    clua_Limits *limits = (clua_Limits *)ud;
    size_t old = ptr ? osize : 0; /* when ptr is NULL, osize is a type tag, not a size */
    if (nsize == 0) {
        free(ptr);
        limits->used -= old;
        return NULL;
    }
    if (nsize > old && limits->limit != 0 && limits->unlimited_depth == 0
        && limits->used - old + nsize > limits->limit) {
        return NULL; /* Lua turns this into a "not enough memory" error */
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) return NULL;
    limits->used = limits->used - old + nsize;
    if (limits->used > limits->peak) limits->peak = limits->used;
    return block;
}

static inline clua_Limits *clua_limits(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (clua_Limits *)ud;
}

/* Creates a state whose memory is accounted in `limits` (owned by the caller, must outlive it). */
static inline lua_State *clua_newstate(clua_Limits *limits) {
    return lua_newstate(clua_limited_alloc, limits);
}

/* Count hook: charges the instructions since the last call and aborts the running chunk once the
 * budget or the deadline is exceeded. After tripping it fires on every instruction, so a script
 * that catches the error with pcall cannot keep running: the next instruction outside the pcall
 * raises again. */
static inline void clua_budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    clua_Limits *limits = clua_limits(L);
    if (!limits->tripped) {
        limits->instructions += limits->hook_step;
        int over_count = limits->instruction_limit > 0 && limits->instructions > limits->instruction_limit;
        int over_time = limits->deadline > 0 && clua_monotonic() > limits->deadline;
        if (!over_count && !over_time) return;
        limits->tripped = over_count ? 1 : 2;
        lua_sethook(L, clua_budget_hook, LUA_MASKCOUNT, 1);
    }
    if (limits->tripped == 1) {
        luaL_error(L, "script aborted: instruction budget of %I instructions exceeded",
                   (lua_Integer)limits->instruction_limit);
    } else {
        luaL_error(L, "script aborted: time limit exceeded");
    }
}

/* Arms the budget for one call into Lua. `seconds` <= 0 and `instructions` <= 0 mean no limit. */
static inline void clua_arm_budget(lua_State *L, long long instructions, double seconds) {
    clua_Limits *limits = clua_limits(L);
    limits->instructions = 0;
    limits->instruction_limit = instructions;
    limits->deadline = seconds > 0 ? clua_monotonic() + seconds : 0;
    if (limits->tripped || lua_gethook(L) == NULL) {
        limits->tripped = 0;
        lua_sethook(L, clua_budget_hook, LUA_MASKCOUNT, limits->hook_step);
    }
}

/* Message handler for lua_pcall: the error message plus a traceback. Memory is not capped while it
 * runs, so a memory-bomb error still gets its report. */
static inline int clua_traceback_handler(lua_State *L) {
    clua_Limits *limits = clua_limits(L);
    limits->unlimited_depth++;
    const char *message = lua_tostring(L, 1);
    if (message == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
            message = lua_tostring(L, -1);
        } else {
            message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        }
    }
    luaL_traceback(L, L, message, 1);
    limits->unlimited_depth--;
    return 1;
}

/* ---- the Swift trampoline ---- */

/* Returned by a Swift function (after pushing the error value) to make the trampoline raise. */
#define CLUA_RAISE (-1)

typedef int (*clua_SwiftFunction)(lua_State *L);

static inline int clua_trampoline(lua_State *L) {
    clua_SwiftFunction fn = (clua_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1));
    /* While Swift runs, allocations are never refused (a refusal would longjmp over Swift). States
     * made with plain luaL_newstate have no clua_Limits and are left alone. */
    lua_Alloc alloc = lua_getallocf(L, NULL);
    clua_Limits *limits = alloc == clua_limited_alloc ? clua_limits(L) : NULL;
    if (limits) limits->unlimited_depth++;
    int results = fn(L);
    if (limits) limits->unlimited_depth--;
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

/* __index for userdata: upvalue 1 is a table of methods (looked up raw, no Swift call for the common
 * case `obj:method(...)`); other keys go to upvalue 2, a function called as f(obj, key). */
static inline int clua_index_methods_then(lua_State *L) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

static inline void clua_pushindexer(lua_State *L) {
    /* expects methods table and fallback function on the stack, pops them */
    lua_pushcclosure(L, clua_index_methods_then, 2);
}

static inline void clua_pushtraceback_handler(lua_State *L) { lua_pushcfunction(L, clua_traceback_handler); }
static inline int clua_upvalue(int i) { return lua_upvalueindex(i); }
static inline void *clua_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int clua_isinteger(lua_State *L, int idx) { return lua_isinteger(L, idx); }
static inline lua_Integer clua_tointegerx(lua_State *L, int idx, int *isnum) { return lua_tointegerx(L, idx, isnum); }
static inline void clua_pushstring_len(lua_State *L, const char *s, size_t len) { lua_pushlstring(L, s, len); }
static inline int clua_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
static inline void clua_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
static inline int clua_getref(lua_State *L, int ref) { return lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
static inline void clua_fullgc(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
/* lua_gc is variadic, which Swift cannot call. 0, 0: Lua's default minor and major multipliers. */
static inline void clua_generational_gc(lua_State *L) { lua_gc(L, LUA_GCGEN, 0, 0); }
static inline int clua_loadfile(lua_State *L, const char *path) { return luaL_loadfilex(L, path, "t"); }

#endif
