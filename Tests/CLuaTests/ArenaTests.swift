import CLua
import Glibc
import Testing

/// The capped allocator's arena for small Lua objects (clua_limited_alloc).
@Suite struct ArenaTests {
    /// Allocates through the allocator as Lua would: `ptr`, its old size, the new size.
    private func allocate(_ limits: UnsafeMutablePointer<clua_Limits>, _ ptr: UnsafeMutableRawPointer?, _ old: Int, _ new: Int) -> UnsafeMutableRawPointer? {
        clua_limited_alloc(limits, ptr, old, new)
    }

    @Test func blocksKeepTheirBytesAcrossEverySizeChange() throws {
        let limits = UnsafeMutablePointer<clua_Limits>.allocate(capacity: 1)
        limits.initialize(to: clua_Limits())
        defer { clua_arena_release(&limits.pointee.arena); limits.deallocate() }
        // Small -> same class -> larger class -> large (malloc) -> small again.
        var size = 10
        var block = try #require(allocate(limits, nil, 5 /* a type tag */, size))
        for index in 0..<size { block.storeBytes(of: UInt8(index), toByteOffset: index, as: UInt8.self) }
        for next in [12, 100, 256, 257, 4000, 40, 1] {
            block = try #require(allocate(limits, block, size, next))
            for index in 0..<min(size, next) {
                #expect(block.load(fromByteOffset: index, as: UInt8.self) == UInt8(truncatingIfNeeded: index))
            }
            for index in min(size, next)..<next { block.storeBytes(of: UInt8(index & 0xFF), toByteOffset: index, as: UInt8.self) }
            size = next
            #expect(limits.pointee.used == size)
        }
        _ = allocate(limits, block, size, 0)
        #expect(limits.pointee.used == 0)
    }

    @Test func aFreedBlockIsReusedForTheSameClass() throws {
        let limits = UnsafeMutablePointer<clua_Limits>.allocate(capacity: 1)
        limits.initialize(to: clua_Limits())
        defer { clua_arena_release(&limits.pointee.arena); limits.deallocate() }
        let first = try #require(allocate(limits, nil, 0, 40))
        let second = try #require(allocate(limits, nil, 0, 40))
        #expect(first != second)
        _ = allocate(limits, first, 40, 0)
        #expect(allocate(limits, nil, 0, 33) == first) // 33 and 40 bytes share the 48-byte class
        #expect(allocate(limits, nil, 0, 40) != first)
    }

    @Test func aWholeStateRunsOnTheArenaAndCloses() throws {
        let limits = UnsafeMutablePointer<clua_Limits>.allocate(capacity: 1)
        limits.initialize(to: clua_Limits())
        defer { clua_arena_release(&limits.pointee.arena); limits.deallocate() }
        let state = try #require(clua_newstate(limits))
        luaL_openlibs(state)
        let chunk = """
            local t = {}
            for i = 1, 20000 do t[i] = "key" .. i end
            local n = 0
            for _, v in ipairs(t) do n = n + #v end
            t = nil
            collectgarbage()
            return n
            """
        let loaded = chunk.withCString { clua_loadbuffer(state, $0, strlen($0), "=arena") }
        #expect(loaded == LUA_OK)
        #expect(clua_pcall(state, 0, 1, 0) == LUA_OK)
        #expect(clua_tointeger(state, -1) == 148_894) // 20,000 × "key" plus 88,894 digits
        #expect(limits.pointee.arena.chunks != nil)
        lua_close(state)
        #expect(limits.pointee.used == 0)
    }
}
