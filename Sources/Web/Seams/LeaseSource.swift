import DHCPWire
import Foundation

/// Dynamic pool leases (the dynamism extension's, kept in the scripts' `store`), implemented by the
/// executable over the same code as `staticdhcpd leases`. With a store shared by several daemons
/// (STORE_ENGINE = "PostgreSQL") every daemon lists, and releases, the same leases.
/// Errors meant for the operator conform to `UserFacingError`; any other error is logged and shown
/// as a generic failure.
public protocol LeaseSource: Sendable {
    /// Every lease in the store, quarantined addresses included, in pool then address order.
    func leases() async throws -> [PoolLease]
    /// Each pool's size and use as the scripts count them (dynamism's pool gauges, the ones
    /// `/metrics` exports); empty when no script reports a pool.
    func poolUsage() async throws -> [PoolUsage]
    /// Frees the lease `mac` (`aa:bb:cc:dd:ee:ff`) holds in every pool, for every daemon of the
    /// store; returns what was released, empty when it held none. Quarantines are left to end.
    func release(mac: MAC) async throws -> [PoolLease]
}

extension PoolLease {
    /// A bound lease whose time has passed: its address stays the client's for the pool's
    /// `reclaim_after` (docs/SCRIPTING.md, "dynamism"), then it is free.
    func isExpired(at now: Date) -> Bool { state == "bound" && expires <= now }

    /// Whether the search box's `query` is part of the MAC, the address or the hostname, ignoring
    /// case; an empty query matches every lease. A MAC typed with dashes finds the colon form too.
    func matches(_ query: String) -> Bool {
        let needle = query.trimmingCharacters(in: .whitespaces).lowercased()
        guard !needle.isEmpty else { return true }
        let macNeedle = needle.replacingOccurrences(of: "-", with: ":")
        return mac.lowercased().contains(needle) || mac.lowercased().contains(macNeedle)
            || ip.contains(needle) || (hostname?.lowercased().contains(needle) ?? false)
    }
}
