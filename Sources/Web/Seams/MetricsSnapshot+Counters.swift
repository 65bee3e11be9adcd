import DHCPModel

extension MetricsSnapshot {
    /// The engine's counters as the dashboard and /metrics show them: packets by method and
    /// outcome, and every outcome but a reply or an accepted DECLINE/RELEASE counted as a drop.
    /// The rest comes from elsewhere: the cache's hits, the reloads, the scripts' own metrics.
    public init(counters: EngineCounters, cacheHits: Int, reloads: Int, reloadFailures: Int, scripted: [ScriptedMetric] = []) {
        var packets: [String: [String: Int]] = [:]
        var drops: [String: Int] = [:]
        for (method, outcomes) in counters.packets {
            for (outcome, count) in outcomes {
                packets[method, default: [:]][outcome.rawValue] = count
                if outcome != .replied && outcome != .accepted { drops[outcome.rawValue, default: 0] += count }
            }
        }
        self.init(
            packets: packets, repliesSent: ["all": counters.repliesSent], drops: drops,
            hookErrors: counters.hookErrors,
            hookTime: DurationTotal(count: counters.hookCalls, seconds: counters.hookTime),
            databaseLookups: DurationTotal(count: counters.databaseLookups, seconds: counters.databaseTime),
            databaseErrors: counters.databaseErrors, cacheHits: cacheHits, rememberedOffers: counters.rememberedOffers,
            reloads: reloads, reloadFailures: reloadFailures
        )
        abuseEvictions = counters.abuseEvictions
        truncatedOptions = counters.truncatedOptions
        self.scripted = scripted
    }
}
