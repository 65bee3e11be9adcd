import DHCPWire
import Databases
import Foundation
import Testing

@Suite struct TimeoutTests {
    @Test func aSlowBackendFailsTheLookupWithAClearError() async throws {
        let slow = ScriptedDatabase(ReservationSet.expected.mapValues { [$0] })
        slow.delay = 30
        let database = TimeoutDatabase(slow, seconds: 0.2)
        let started = ContinuousClock.now
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.alpha) }
        #expect(error == .timeout(engine: "Scripted", seconds: 0.2))
        #expect(error?.description == "Scripted database did not answer within 0.2 s (DATABASE_TIMEOUT)")
        // Far below the backend's 30 s, with slack for a loaded machine running tests in parallel.
        #expect(ContinuousClock.now - started < .seconds(6))
        slow.delay = 0
        #expect(try await database.lookupMAC(ReservationSet.alpha).count == 1)
    }

    @Test func backendErrorsPassThroughUnchanged() async throws {
        let down = ScriptedDatabase([:])
        down.down = true
        let error = await #expect(throws: DatabaseError.self) {
            try await TimeoutDatabase(down, seconds: 1).lookupMAC(ReservationSet.alpha)
        }
        #expect(error == .unavailable(engine: "Scripted", reason: "switched off by the test"))
    }
}

@Suite struct CacheTests {
    private let alphaDefinition = ReservationSet.expected[ReservationSet.alpha]!

    private func cached(_ backend: ScriptedDatabase, persistent: String? = nil, disk: Bool = false) throws -> any Database {
        var config = DatabaseConfiguration(engine: .custom(backend))
        config.useCache = true
        config.diskCache = disk
        config.diskCachePersistent = persistent
        config.lookupTimeout = 1
        return try DatabaseFactory.make(config, logger: quietLogger)
    }

    @Test func hitsSkipTheBackendAndNegativeResultsAreNeverCached() async throws {
        let backend = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        let database = try cached(backend)
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alphaDefinition])
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alphaDefinition])
        #expect(backend.lookups == 1)
        #expect(try await database.lookupMAC(ReservationSet.unknown).isEmpty)
        #expect(try await database.lookupMAC(ReservationSet.unknown).isEmpty)
        #expect(backend.lookups == 3)
        // What /metrics reports as cache_hits_total: the one lookup the backend did not see.
        #expect((database as? CachingDatabase)?.cacheHits == 1)
    }

    @Test func aStaleEntryServedThroughAnOutageCountsAsAHit() async throws {
        let backend = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        let database = try #require(try cached(backend) as? CachingDatabase)
        _ = try await database.lookupMAC(ReservationSet.alpha)
        #expect(database.cacheHits == 0)
        backend.down = true
        await #expect(throws: DatabaseError.self) { try await database.reinitialise() }
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alphaDefinition])
        #expect(database.cacheHits == 1)
    }

    @Test(arguments: [false, true])
    func knownClientsAreServedThroughAnOutageThatSpansAReload(_ disk: Bool) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let backend = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        let database = try cached(backend, persistent: disk ? directory.file("cache.sqlite3") : nil, disk: disk)
        _ = try await database.lookupMAC(ReservationSet.alpha)
        backend.down = true
        await #expect(throws: DatabaseError.self) { try await database.reinitialise() }
        // Stale after the reload, yet still served while the backend is down.
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alphaDefinition])
        // A client never seen cannot be served.
        await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.beta) }
        // Back up: the entry is revalidated, and a removed reservation is evicted.
        backend.down = false
        backend.set(ReservationSet.alpha, nil)
        #expect(try await database.lookupMAC(ReservationSet.alpha).isEmpty)
        backend.down = true
        await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.alpha) }
    }

    @Test func theImmediatePathSettlesHitsMissesAndStaleEntriesAsTheSlowPathDoes() async throws {
        let scripted = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        var config = DatabaseConfiguration(engine: .custom(ImmediateScripted(scripted: scripted)))
        config.useCache = true
        config.lookupTimeout = 1
        let database = try #require(try DatabaseFactory.make(config, logger: quietLogger) as? any ImmediateLookup)
        let unknown = MAC(0x0200_0000_0999)
        // Before the cache has read its generation, only the slow path answers.
        #expect(try database.lookupImmediately(ReservationSet.alpha) == nil)
        #expect(try await database.lookupMAC(unknown).isEmpty)
        // A miss is settled by the backend's immediate path and cached.
        #expect(try database.lookupImmediately(ReservationSet.alpha) == [alphaDefinition])
        let asked = scripted.lookups
        #expect(try database.lookupImmediately(ReservationSet.alpha) == [alphaDefinition])
        #expect(scripted.lookups == asked)
        // After a reload with the database down, the stale entry is still served; an unknown MAC fails.
        scripted.down = true
        try? await database.reinitialise()
        #expect(try database.lookupImmediately(ReservationSet.alpha) == [alphaDefinition])
        #expect(throws: DatabaseError.self) { try database.lookupImmediately(unknown) }
    }

    @Test func reloadRevalidatesEntriesWhenTheBackendIsUp() async throws {
        let backend = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        let database = try cached(backend)
        _ = try await database.lookupMAC(ReservationSet.alpha)
        var moved = alphaDefinition
        moved.ip = IPv4(192, 0, 2, 99)
        backend.set(ReservationSet.alpha, [moved])
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alphaDefinition])
        try await database.reinitialise()
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [moved])
    }

    @Test func thePersistentDiskCacheServesKnownClientsAfterARestartWithTheDatabaseDown() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("persistent.sqlite3")
        let several = [alphaDefinition, ReservationSet.expected[ReservationSet.gamma]!]
        do {
            let backend = ScriptedDatabase([ReservationSet.alpha: several])
            let database = try cached(backend, persistent: path)
            #expect(try await database.lookupMAC(ReservationSet.alpha) == several)
        }
        // "Restart": a new process-worth of objects, the database unreachable from the start.
        let backend = ScriptedDatabase([:])
        backend.down = true
        let restarted = try cached(backend, persistent: path)
        #expect(try await restarted.lookupMAC(ReservationSet.alpha) == several)
        #expect(backend.lookups == 1)
        // And when the database answers again, it wins.
        backend.down = false
        #expect(try await restarted.lookupMAC(ReservationSet.alpha).isEmpty)
    }

    @Test func aSlowBackendBehindTheCacheTimesOutButCachedClientsAreStillServed() async throws {
        let backend = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        let database = try cached(backend)
        _ = try await database.lookupMAC(ReservationSet.alpha)
        backend.delay = 3
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(ReservationSet.beta) }
        #expect(error == .timeout(engine: "Scripted", seconds: 1))
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alphaDefinition])
    }

    @Test func anUnopenableDiskCacheFallsBackAsTheSpecSays() async throws {
        let backend = ScriptedDatabase([ReservationSet.alpha: [alphaDefinition]])
        // Persistent-only: memory cache remains.
        let memoryOnly = try cached(backend, persistent: "/nonexistent-dir/cache.sqlite3")
        _ = try await memoryOnly.lookupMAC(ReservationSet.alpha)
        _ = try await memoryOnly.lookupMAC(ReservationSet.alpha)
        #expect(backend.lookups == 1)
        // DISK_CACHE with a bad path: no cache at all, every lookup reaches the backend.
        let uncached = try cached(backend, persistent: "/nonexistent-dir/cache.sqlite3", disk: true)
        _ = try await uncached.lookupMAC(ReservationSet.alpha)
        _ = try await uncached.lookupMAC(ReservationSet.alpha)
        #expect(backend.lookups == 3)
    }
}

/// A backend with an immediate path, as SQLite and INI have for the engine's thread.
private struct ImmediateScripted: ImmediateLookup {
    let scripted: ScriptedDatabase
    var engineName: String { scripted.engineName }
    func lookupMAC(_ mac: MAC) async throws -> [Definition] { try await scripted.lookupMAC(mac) }
    func reinitialise() async throws { try await scripted.reinitialise() }
    func lookupImmediately(_ mac: MAC) throws -> [Definition]? {
        if scripted.down { throw DatabaseError.unavailable(engine: "Scripted", reason: "switched off by the test") }
        return scripted.answerNow(mac)
    }
}
