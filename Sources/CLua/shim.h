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

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Small Lua objects (strings, tables, closures, userdata up to CLUA_ARENA_LARGEST bytes) live in
 * 64 KiB chunks of their own, one free list per 16-byte size class, instead of among every other
 * allocation of the process: a hook call then touches a few compact pages, which stay warmer in
 * the caches and the TLB between packets, and a block is a pop or a push instead of malloc's
 * search. Lua always tells the allocator a block's size, so no header is needed. Chunks are kept
 * until the state is closed (clua_arena_release). */
#define CLUA_ARENA_GRAIN 16
#define CLUA_ARENA_LARGEST 256
#define CLUA_ARENA_CLASSES (CLUA_ARENA_LARGEST / CLUA_ARENA_GRAIN)
#define CLUA_ARENA_CHUNK (64 * 1024)

typedef struct clua_Arena {
    void *free_lists[CLUA_ARENA_CLASSES];
    char *cursor;             /* the unused rest of the newest chunk */
    char *end;
    void *chunks;             /* every chunk, linked through its first word */
} clua_Arena;

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
    double time_limit;        /* wall-clock seconds allowed to the current call; 0 = none */
    double deadline;          /* CLOCK_MONOTONIC seconds; 0 = not started yet (see clua_budget_hook) */
    int tripped;              /* 1 once the budget ran out in the current call */
    int hook_step;            /* instructions between two hook calls */
    clua_Arena arena;         /* where the state's small objects live */
} clua_Limits;

static inline size_t clua_arena_class(size_t size) { return (size + CLUA_ARENA_GRAIN - 1) / CLUA_ARENA_GRAIN - 1; }

static inline void *clua_arena_take(clua_Arena *arena, size_t size) {
    size_t class = clua_arena_class(size);
    void *block = arena->free_lists[class];
    if (block != NULL) {
        arena->free_lists[class] = *(void **)block;
        return block;
    }
    size_t rounded = (class + 1) * CLUA_ARENA_GRAIN;
    if (arena->cursor == NULL || (size_t)(arena->end - arena->cursor) < rounded) {
        char *chunk = (char *)malloc(CLUA_ARENA_CHUNK);
        if (chunk == NULL) return NULL;
        *(void **)chunk = arena->chunks;
        arena->chunks = chunk;
        arena->cursor = chunk + CLUA_ARENA_GRAIN; /* the first grain holds the chunk link */
        arena->end = chunk + CLUA_ARENA_CHUNK;
    }
    block = arena->cursor;
    arena->cursor += rounded;
    return block;
}

static inline void clua_arena_give(clua_Arena *arena, void *block, size_t size) {
    size_t class = clua_arena_class(size);
    *(void **)block = arena->free_lists[class];
    arena->free_lists[class] = block;
}

/* Frees the chunks; call after lua_close, when no block is in use any more. */
static inline void clua_arena_release(clua_Arena *arena) {
    void *chunk = arena->chunks;
    while (chunk != NULL) {
        void *next = *(void **)chunk;
        free(chunk);
        chunk = next;
    }
    *arena = (clua_Arena){0};
}

/* A block of `nsize` bytes for one of `old` bytes (0: none) at `ptr`, small ones from the arena. */
static inline void *clua_arena_realloc(clua_Arena *arena, void *ptr, size_t old, size_t nsize) {
    int was_small = ptr != NULL && old <= CLUA_ARENA_LARGEST;
    if (nsize <= CLUA_ARENA_LARGEST) {
        if (was_small && clua_arena_class(old) == clua_arena_class(nsize)) return ptr;
        void *block = clua_arena_take(arena, nsize);
        if (block == NULL) return NULL;
        if (ptr != NULL) {
            memcpy(block, ptr, old < nsize ? old : nsize);
            if (was_small) clua_arena_give(arena, ptr, old); else free(ptr);
        }
        return block;
    }
    if (ptr == NULL) return malloc(nsize);
    if (!was_small) return realloc(ptr, nsize);
    void *block = malloc(nsize);
    if (block == NULL) return NULL;
    memcpy(block, ptr, old);
    clua_arena_give(arena, ptr, old);
    return block;
}

static inline double clua_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void *clua_limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    clua_Limits *limits = (clua_Limits *)ud;
    size_t old = ptr ? osize : 0; /* when ptr is NULL, osize is a type tag, not a size */
    if (nsize == 0) {
        if (ptr != NULL) {
            if (old <= CLUA_ARENA_LARGEST) clua_arena_give(&limits->arena, ptr, old); else free(ptr);
        }
        limits->used -= old;
        return NULL;
    }
    if (nsize > old && limits->limit != 0 && limits->unlimited_depth == 0
        && limits->used - old + nsize > limits->limit) {
        return NULL; /* Lua turns this into a "not enough memory" error */
    }
    void *block = clua_arena_realloc(&limits->arena, ptr, old, nsize);
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
 * raises again.
 *
 * The wall clock is read here, never when a call is armed: most hook calls finish in far fewer
 * than `hook_step` instructions and so never read it at all. The first firing of a call starts its
 * clock (deadline = now + time_limit), every later one compares. The limit therefore counts from
 * the call's first `hook_step` instructions rather than from its first one; the check was already
 * only as fine as one step, and a call that runs longer than a step is still always stopped. */
static inline void clua_budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    clua_Limits *limits = clua_limits(L);
    if (!limits->tripped) {
        limits->instructions += limits->hook_step;
        int over_count = limits->instruction_limit > 0 && limits->instructions > limits->instruction_limit;
        int over_time = 0;
        if (limits->time_limit > 0) {
            double now = clua_monotonic();
            if (limits->deadline == 0) {
                limits->deadline = now + limits->time_limit;
            } else {
                over_time = now > limits->deadline;
            }
        }
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

/* Arms the budget for one call into Lua. `seconds` <= 0 and `instructions` <= 0 mean no limit.
 * No clock read here (see clua_budget_hook); the count hook stays installed between calls, and
 * lua_sethook resets its countdown only when it must be re-installed after a trip. */
static inline void clua_arm_budget(lua_State *L, long long instructions, double seconds) {
    clua_Limits *limits = clua_limits(L);
    limits->instructions = 0;
    limits->instruction_limit = instructions;
    limits->time_limit = seconds > 0 ? seconds : 0;
    limits->deadline = 0;
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
/* Returned by a Swift function to suspend the running coroutine (a store round trip): the
 * trampoline yields, from C, with clua_resumed as the continuation. */
#define CLUA_YIELD (-2)

/* Where a Swift function that yielded goes on: the resumer pushed (true, results...) or
 * (false, error value) above the stack the function had when it yielded (`base`). */
static inline int clua_resumed(lua_State *L, int status, lua_KContext base) {
    (void)status;
    int first = (int)base + 1;
    if (!lua_toboolean(L, first)) {
        lua_pushvalue(L, first + 1);
        return lua_error(L);
    }
    return lua_gettop(L) - first;
}

typedef int (*clua_SwiftFunction)(lua_State *L);

/* Calls a Swift function on the current frame. While Swift runs, allocations are never refused (a
 * refusal would longjmp over Swift). States made with plain luaL_newstate have no clua_Limits and
 * are left alone. */
static inline int clua_call_swift(lua_State *L, clua_SwiftFunction fn) {
    lua_Alloc alloc = lua_getallocf(L, NULL);
    clua_Limits *limits = alloc == clua_limited_alloc ? clua_limits(L) : NULL;
    if (limits) limits->unlimited_depth++;
    int results = fn(L);
    if (limits) limits->unlimited_depth--;
    if (results == CLUA_YIELD) {
        /* Also a longjmp from this C frame, to lua_resume's own protected call. */
        return lua_yieldk(L, 0, (lua_KContext)lua_gettop(L), clua_resumed);
    }
    if (results < 0) {
        return lua_error(L); /* longjmp from this C frame; the Swift frame has already returned */
    }
    return results;
}

static inline int clua_trampoline(lua_State *L) {
    return clua_call_swift(L, (clua_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1)));
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

/* The two packets a hook call shows to Lua, as the packet indexer's `meta` fast path needs them:
 * the light userdata token of each slot (0 when unbound) and its request id. Written by the
 * Swift runtime when it binds a packet (Scripting's PacketSlot holds the packet itself). */
typedef struct clua_HookPackets {
    uintptr_t token[2];
    lua_Integer request[2];
} clua_HookPackets;

/* __index of packets. Upvalues: 1 methods table, 2 Swift fallback (light userdata), 3 the string
 * "meta", 4 the clua_HookPackets (light userdata), 5 the table of meta tables by request id.
 * Methods are a raw lookup; `packet.meta` of a bound hook packet whose meta table exists is a
 * second raw lookup; everything else (other properties, a first `meta`, copies, stale tokens,
 * errors) goes to the Swift fallback, called on this frame with (packet, key) at 1 and 2 (no
 * second Lua call, unlike a Lua function as __index). */
static inline int clua_packet_index(lua_State *L) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    if (lua_type(L, 1) == LUA_TLIGHTUSERDATA && lua_rawequal(L, 2, lua_upvalueindex(3))) {
        const clua_HookPackets *packets = (const clua_HookPackets *)lua_touserdata(L, lua_upvalueindex(4));
        uintptr_t token = (uintptr_t)lua_touserdata(L, 1);
        for (int slot = 0; slot < 2; slot++) {
            if (token == 0 || token != packets->token[slot]) continue;
            if (lua_rawgeti(L, lua_upvalueindex(5), packets->request[slot]) == LUA_TTABLE) return 1;
            lua_pop(L, 1);
            break;
        }
    }
    return clua_call_swift(L, (clua_SwiftFunction)lua_touserdata(L, lua_upvalueindex(2)));
}

/* Pops the methods table, the "meta" string and the metas table (pushed in that order) and pushes
 * the packet __index closure over them. */
static inline void clua_pushpacketindexer(lua_State *L, clua_SwiftFunction fallback, clua_HookPackets *packets) {
    lua_pushlightuserdata(L, (void *)fallback);
    lua_rotate(L, -3, 1);              /* methods, fallback, meta, metas */
    lua_pushlightuserdata(L, packets);
    lua_rotate(L, -2, 1);              /* methods, fallback, meta, packets, metas */
    lua_pushcclosure(L, clua_packet_index, 5);
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

/* ---- coroutines for hooks that wait on the store ---- */

/* Resumes `co` with `nargs` values on its stack; *nresults receives the results' count. The
 * memory cap applies while it runs, as in a protected call. */
static inline int clua_resume(lua_State *co, lua_State *from, int nargs, int *nresults) {
    clua_Limits *limits = clua_limits(co);
    int saved = limits->unlimited_depth;
    limits->unlimited_depth = 0;
    int status = lua_resume(co, from, nargs, nresults);
    limits->unlimited_depth = saved;
    return status;
}

/* Pushes, on L, the error at the top of the dead coroutine `co` with the coroutine's traceback. */
static inline void clua_coroutine_traceback(lua_State *L, lua_State *co) {
    clua_Limits *limits = clua_limits(L);
    limits->unlimited_depth++;
    const char *message = lua_tostring(co, -1);
    int pushed = message == NULL;
    if (pushed) message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(co, -1));
    luaL_traceback(L, co, message, 0);
    if (pushed) lua_remove(L, -2);
    limits->unlimited_depth--;
}

#endif
