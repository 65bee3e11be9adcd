import DHCPWire
import Logging

/// The cache layer in front of a backend (`USE_CACHE`).
///
/// - A current-generation hit is answered without touching the backend.
/// - A miss or a stale entry asks the backend; a positive answer is stored in every node, a
///   negative one is never cached (and evicts a stale entry: the reservation was removed).
/// - When the backend fails (down, timed out), a stale entry is served with a warning; with no
///   entry at all the error propagates and the engine drops that request.
/// - `reinitialise` starts a new generation instead of wiping, so a reload while the database is
///   unreachable does not throw away the ability to serve known clients.
/// - Cache errors are logged and otherwise ignored: a broken cache must never stop service.
public final class CachingDatabase: ImmediateLookup {
    public var engineName: String { backend.engineName }

    private let backend: any Database
    private let cache: CacheChain
    private let logger: Logger
    private let generation = Locked<UInt64?>(nil)
    /// The chain's first node when it is the in-process memory cache (the immediate path).
    private let memory: MemoryCache?
    /// The backend's immediate path, when it has one.
    private let immediateBackend: (any ImmediateLookup)?
    private let hits = Locked(0)

    /// Lookups answered from the cache (a current entry, or a stale one while the backend
    /// failed), for `/metrics`' `cache_hits_total`.
    public var cacheHits: Int { hits.withLock { $0 } }

    init(backend: any Database, cache: CacheChain, logger: Logger) {
        self.backend = backend
        self.cache = cache
        memory = cache.nodes.first as? MemoryCache
        immediateBackend = backend as? any ImmediateLookup
        self.logger = logger
    }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        let current = try await currentGeneration()
        var cached: CacheEntry?
        do {
            cached = try await cache.entry(for: mac)
        } catch {
            logger.error("cache lookup for \(mac) failed, asking the database: \(error)")
        }
        if let cached, cached.generation == current {
            hits.withLock { $0 += 1 }
            return cached.definitions
        }

        let fresh: [Definition]
        do {
            fresh = try await backend.lookupMAC(mac)
        } catch {
            guard let cached else { throw error }
            logger.warning("serving cached definition for \(mac) because the database failed: \(error)")
            hits.withLock { $0 += 1 }
            return cached.definitions
        }
        do {
            if !fresh.isEmpty {
                try await cache.store(CacheEntry(definitions: fresh, generation: current), for: mac)
            } else if cached != nil {
                try await cache.remove(mac)
            }
        } catch {
            logger.error("cannot update the cache for \(mac): \(error)")
        }
        return fresh
    }

    /// A current hit in the in-process memory cache. When the memory cache is the whole chain and
    /// the backend answers at once too (SQLite, INI), a miss or a stale entry is settled here with
    /// the same rules as `lookupMAC`. Anything else (a cache on disk or in memcached, a remote
    /// backend, a generation not read yet) takes the `lookupMAC` path.
    public func endReadSnapshot() {
        immediateBackend?.endReadSnapshot()
    }

    public func lookupImmediately(_ mac: MAC) throws -> [Definition]? {
        guard let memory, let current = generation.withLock({ $0 }) else { return nil }
        let cached = memory.entry(for: mac)
        if let cached, cached.generation == current {
            hits.withLock { $0 += 1 }
            return cached.definitions
        }
        guard cache.nodes.count == 1, let backend = immediateBackend else { return nil }
        let fresh: [Definition]
        do {
            guard let answer = try backend.lookupImmediately(mac) else { return nil }
            fresh = answer
        } catch {
            guard let cached else { throw error }
            logger.warning("serving cached definition for \(mac) because the database failed: \(error)")
            hits.withLock { $0 += 1 }
            return cached.definitions
        }
        if !fresh.isEmpty {
            memory.store(CacheEntry(definitions: fresh, generation: current), for: mac)
        } else if cached != nil {
            memory.remove(mac)
        }
        return fresh
    }

    /// Refreshes the backend, then makes every cached entry stale (revalidated on next use).
    /// A backend that cannot be refreshed is reported, but the stale entries remain servable.
    public func reinitialise() async throws {
        var backendError: (any Error)?
        do {
            try await backend.reinitialise()
        } catch {
            backendError = error
            logger.warning("database reinitialisation failed; cached clients stay servable: \(error)")
        }
        let next = try await currentGeneration() + 1
        do {
            try await cache.record(generation: next)
        } catch {
            logger.error("cannot record the new cache generation: \(error)")
        }
        generation.withLock { $0 = next }
        if let backendError { throw backendError }
    }

    /// The generation lookups store under: one above anything recorded before this process.
    private func currentGeneration() async throws -> UInt64 {
        if let known = generation.withLock({ $0 }) { return known }
        var recorded: UInt64 = 0
        do {
            recorded = try await cache.recordedGeneration()
        } catch {
            logger.error("cannot read the cache generation: \(error)")
        }
        let start = recorded + 1
        let chosen = generation.withLock { value -> (UInt64, Bool) in
            if let value { return (value, false) }
            value = start
            return (start, true)
        }
        if chosen.1 {
            do { try await cache.record(generation: start) } catch { logger.error("cannot record the cache generation: \(error)") }
        }
        return chosen.0
    }
}

/// Builds the cache chain from `CACHING_MODEL`, `DISK_CACHE` and `DISK_CACHE_PERSISTENT`
/// as the original did, including its fallbacks when a disk cache cannot be opened.
enum CacheChainFactory {
    static func make(_ config: DatabaseConfiguration, logger: Logger) throws -> CacheChain? {
        switch config.cachingModel {
        case "in-process":
            break
        case "memcached":
            guard let host = config.memcachedHost, !host.isEmpty else {
                logger.error("CACHING_MODEL is 'memcached' but MEMCACHED_HOST is not set; caching is disabled")
                return nil
            }
            return CacheChain(nodes: [MemcachedCache(host: host, port: config.memcachedPort, ageTime: config.memcachedAgeTime)])
        default:
            throw DatabaseError.configuration(
                "CACHING_MODEL '\(config.cachingModel)' is not a caching model; use 'in-process' or 'memcached'")
        }
        let persistent = config.diskCachePersistent.flatMap { $0.isEmpty ? nil : $0 }
        if config.diskCache {
            do {
                return CacheChain(nodes: [try DiskCache(path: persistent)])
            } catch {
                logger.warning("disk cache \(persistent ?? "(temporary)") cannot be opened, caching is disabled: \(error)")
                return nil
            }
        }
        guard let persistent else { return CacheChain(nodes: [MemoryCache()]) }
        do {
            return CacheChain(nodes: [MemoryCache(), try DiskCache(path: persistent)])
        } catch {
            logger.warning("persistent disk cache \(persistent) cannot be opened, using the memory cache only: \(error)")
            return CacheChain(nodes: [MemoryCache()])
        }
    }
}
