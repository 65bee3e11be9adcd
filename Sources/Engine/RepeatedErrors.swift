/// Keeps one failure repeated by every packet (a hook that fails the same way for each client, a
/// store that is down) from writing a log line, and mailing a CRITICAL record, per packet: the
/// first occurrence of an error text is logged, the same text again within `interval` is counted,
/// and the next one logged after it says how many were not.
struct RepeatedErrors {
    let interval: Duration
    /// Distinct texts remembered at once; past that the oldest window restarts (a flood of
    /// different errors is logged rather than remembered without bound).
    let capacity: Int
    private var windows: [String: (started: ContinuousClock.Instant, suppressed: Int)] = [:]

    init(interval: Duration = .seconds(60), capacity: Int = 64) {
        self.interval = interval
        self.capacity = capacity
    }

    /// Whether to log `text` now, and how many of it went unlogged since it last was.
    mutating func admit(_ text: String, now: ContinuousClock.Instant) -> (log: Bool, suppressed: Int) {
        if let window = windows[text], now - window.started < interval {
            windows[text]?.suppressed += 1
            return (false, 0)
        }
        let suppressed = windows[text]?.suppressed ?? 0
        if windows[text] == nil && windows.count >= capacity {
            windows.removeAll(keepingCapacity: true)
        }
        windows[text] = (now, 0)
        return (true, suppressed)
    }
}
