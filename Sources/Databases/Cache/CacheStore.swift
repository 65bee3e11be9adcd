import DHCPWire

/// What a cache holds for one MAC: the backend's answer and the cache generation it belongs to.
///
/// `reinitialise` (and a restart, for the persistent disk cache) starts a new generation rather
/// than wiping: entries of an older generation are *stale*, revalidated against the backend on
/// their next lookup and served only when the backend cannot answer. A site thereby keeps
/// serving known clients through a database outage that begins before a reload or a restart.
struct CacheEntry: Sendable, Equatable {
    var definitions: [Definition]
    var generation: UInt64
}

/// One node of the cache chain (memory, SQLite disk file, ...).
protocol CacheStore: Sendable {
    var name: String { get }
    func entry(for mac: MAC) async throws -> CacheEntry?
    func store(_ entry: CacheEntry, for mac: MAC) async throws
    func remove(_ mac: MAC) async throws
    /// The newest generation this store has recorded (0 when new); persisted by disk stores.
    func recordedGeneration() async throws -> UInt64
    func record(generation: UInt64) async throws
}

/// Nodes tried in order: a hit below is copied into the nodes above it; writes go to all.
struct CacheChain: Sendable {
    let nodes: [any CacheStore]

    var description: String { nodes.map(\.name).joined(separator: " -> ") }

    func entry(for mac: MAC) async throws -> CacheEntry? {
        for (index, node) in nodes.enumerated() {
            if let entry = try await node.entry(for: mac) {
                for upper in nodes[..<index] { try await upper.store(entry, for: mac) }
                return entry
            }
        }
        return nil
    }

    func store(_ entry: CacheEntry, for mac: MAC) async throws {
        for node in nodes { try await node.store(entry, for: mac) }
    }

    func remove(_ mac: MAC) async throws {
        for node in nodes { try await node.remove(mac) }
    }

    func recordedGeneration() async throws -> UInt64 {
        var newest: UInt64 = 0
        for node in nodes { newest = max(newest, try await node.recordedGeneration()) }
        return newest
    }

    func record(generation: UInt64) async throws {
        for node in nodes { try await node.record(generation: generation) }
    }
}

/// The in-process memory cache: a dictionary keyed by the MAC's integer value.
final class MemoryCache: CacheStore {
    var name: String { "memory" }
    private struct State {
        var entries: [UInt64: CacheEntry] = [:]
        var generation: UInt64 = 0
    }
    private let state = Locked(State())

    init() {}

    func entry(for mac: MAC) -> CacheEntry? { state.withLock { $0.entries[mac.value] } }
    func store(_ entry: CacheEntry, for mac: MAC) { state.withLock { $0.entries[mac.value] = entry } }
    func remove(_ mac: MAC) { state.withLock { _ = $0.entries.removeValue(forKey: mac.value) } }
    func recordedGeneration() -> UInt64 { state.withLock { $0.generation } }
    func record(generation: UInt64) { state.withLock { $0.generation = generation } }
    var count: Int { state.withLock { $0.entries.count } }
}
