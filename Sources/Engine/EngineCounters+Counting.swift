import DHCPModel

/// How the engine adds to its counters (the counters themselves are DHCPModel's: the web layer reads them).
extension EngineCounters {
    /// One hook call, started at `started`.
    mutating func hookRan(since started: ContinuousClock.Instant) {
        hookCalls += 1
        hookTime += (ContinuousClock.now - started).seconds
    }

    mutating func count(_ statistics: Statistics) {
        packets[statistics.method ?? "NON-DHCP", default: [:]][statistics.outcome, default: 0] += 1
    }
}
