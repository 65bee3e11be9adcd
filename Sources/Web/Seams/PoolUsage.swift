/// How full one dynamic pool is. Pools are defined by the script in conf.lua, so only the script
/// knows their sizes; dynamism reports them as gauges (docs/SCRIPTING.md, `metricsAddHandler`),
/// which `fromDynamismGauges` reads, so the page and `/metrics` always agree.
public struct PoolUsage: Sendable, Encodable, Equatable {
    public var pool: String
    /// Addresses in the pool.
    public var size: Int
    /// Bound to a client, lease not expired.
    public var leased: Int
    /// Offered, not yet requested.
    public var offered: Int
    /// Lease expired but kept for its client (`reclaim_after`).
    public var expired: Int
    /// Out of use after a DECLINE.
    public var quarantined: Int
    /// Free to give now.
    public var free: Int
    /// The share of the pool clients hold now, (leased + offered) / size; 0 for an empty pool.
    public let utilisation: Double

    public init(pool: String, size: Int, leased: Int, offered: Int, expired: Int, quarantined: Int, free: Int) {
        self.pool = pool
        self.size = size
        self.leased = leased
        self.offered = offered
        self.expired = expired
        self.quarantined = quarantined
        self.free = free
        utilisation = size > 0 ? Double(leased + offered) / Double(size) : 0
    }

    /// Addresses clients hold now: the bar's length.
    public var inUse: Int { leased + offered }

    /// The pools in `metrics` that report `pool_addresses`, in the order the script listed them,
    /// with their `pool_leased`, `pool_offered`, `pool_expired`, `pool_quarantined` and `pool_free`
    /// (0 when missing). Samples are told apart by their `pool` label.
    public static func fromDynamismGauges(_ metrics: [ScriptedMetric]) -> [PoolUsage] {
        var order: [String] = []
        var values: [String: [String: Int]] = [:]
        for metric in metrics where metric.name.hasPrefix("pool_") {
            guard let pool = metric.labels["pool"], metric.value.isFinite, abs(metric.value) < 1e15 else { continue }
            if values[pool] == nil { order.append(pool) }
            values[pool, default: [:]][metric.name] = Int(metric.value.rounded())
        }
        return order.compactMap { pool in
            guard let gauges = values[pool], let size = gauges["pool_addresses"] else { return nil }
            return PoolUsage(
                pool: pool, size: size, leased: gauges["pool_leased"] ?? 0, offered: gauges["pool_offered"] ?? 0,
                expired: gauges["pool_expired"] ?? 0, quarantined: gauges["pool_quarantined"] ?? 0,
                free: gauges["pool_free"] ?? 0)
        }
    }
}
