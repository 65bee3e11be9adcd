import DHCPWire

/// The temporary blocklist and the flood suspension (docs/PROTOCOL.md §1.4).
///
/// Not thread-safe on its own: the engine owns one and touches it only from its actor. It lives
/// outside any script generation, so a reload keeps every blocklist entry and flood counter.
public struct AbuseGuard: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Seconds a MAC is ignored after a blocklist event (`UNAUTHORIZED_CLIENT_TIMEOUT`).
        public var unauthorizedTimeout: Int
        /// Seconds a MAC is ignored after tripping the flood threshold (`MISBEHAVING_CLIENT_TIMEOUT`).
        public var misbehavingTimeout: Int
        /// `ENABLE_SUSPEND`.
        public var enableSuspend: Bool
        /// `SUSPEND_THRESHOLD`: the counter value above which a MAC is suspended.
        public var suspendThreshold: Int

        public init(unauthorizedTimeout: Int = 60, misbehavingTimeout: Int = 150, enableSuspend: Bool = true, suspendThreshold: Int = 10) {
            self.unauthorizedTimeout = unauthorizedTimeout
            self.misbehavingTimeout = misbehavingTimeout
            self.enableSuspend = enableSuspend
            self.suspendThreshold = suspendThreshold
        }
    }

    public enum Verdict: Equatable, Sendable {
        case accept
        /// Already ignored for this many more seconds.
        case ignored(remaining: Int)
        /// This packet tripped the flood threshold; the MAC is now suspended.
        case suspended(seconds: Int)
    }

    public var configuration: Configuration
    /// MAC -> seconds left. One entry per MAC holding the longest remaining time, which behaves
    /// like the original's list of entries (the maximum is what decides) without its duplicates.
    private var ignored: BoundedMACTable
    private var counters: BoundedMACTable

    /// Entries each table keeps at most: far more clients than one server sees between two decay
    /// ticks, and a few megabytes at worst.
    public static let defaultCapacity = 65_536

    /// `capacity`: the most MACs each table (blocklist, flood counters) tracks; when full, the
    /// entry added longest ago makes room for the new one.
    public init(configuration: Configuration, capacity: Int = AbuseGuard.defaultCapacity) {
        self.configuration = configuration
        ignored = BoundedMACTable(capacity: capacity)
        counters = BoundedMACTable(capacity: capacity)
    }

    /// Checks `mac` and counts the request (the blocklist first, then the flood counter).
    public mutating func admit(_ mac: MAC) -> Verdict {
        if let remaining = ignored[mac] {
            return .ignored(remaining: remaining)
        }
        guard configuration.enableSuspend else { return .accept }
        let count = (counters[mac] ?? 0) + 1
        counters[mac] = count
        if count > 1 && count > configuration.suspendThreshold {
            ignore(mac, for: configuration.misbehavingTimeout)
            return .suspended(seconds: configuration.misbehavingTimeout)
        }
        return .accept
    }

    /// Puts `mac` on the temporary blocklist (`UNAUTHORIZED_CLIENT_TIMEOUT`).
    public mutating func blocklist(_ mac: MAC) {
        ignore(mac, for: configuration.unauthorizedTimeout)
    }

    private mutating func ignore(_ mac: MAC, for seconds: Int) {
        guard seconds > 0 else { return }
        ignored[mac] = max(ignored[mac] ?? 0, seconds)
    }

    /// The 1 Hz decay: entries at 1 second or less are removed, the rest lose a second.
    public mutating func tick() {
        ignored.update { remaining in remaining <= 1 ? nil : remaining - 1 }
        if configuration.enableSuspend {
            counters.update { count in count <= 1 ? nil : count - 1 }
        } else if !counters.isEmpty {
            counters.removeAll()
        }
    }

    public func remaining(for mac: MAC) -> Int? { ignored[mac] }
    public var ignoredCount: Int { ignored.count }
    /// MACs with a flood counter.
    public var countedCount: Int { counters.count }
    /// Entries evicted from either table to make room for another MAC.
    public var evictions: Int { ignored.evictions + counters.evictions }
    /// Slots both tables occupy, stale ones included (what their memory grows with).
    public var footprint: Int { ignored.count + counters.count + ignored.orderSlots + counters.orderSlots }
}
