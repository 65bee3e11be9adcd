import Foundation

/// At most one mail per `interval` (docs/SCRIPTING.md, "Hooks"; README, e-mail): the first
/// CRITICAL record is mailed at once, and those that follow within the interval are gathered and
/// sent as one digest when it ends. A script failing on every packet, or an outage that logs
/// CRITICAL repeatedly, then costs the operator's inbox one mail a minute, not thousands.
struct MailThrottle {
    enum Decision: Equatable {
        /// Mail this record now.
        case send
        /// Held for the digest; `flushAt` is set for the first record held in an interval, when
        /// the caller must schedule `digest(now:)`.
        case held(flushAt: Date?)
    }

    /// Seconds between mails; 0 mails every record.
    var interval: TimeInterval
    /// Lines kept for one digest; past that they are counted.
    let keep: Int
    private var lastSent: Date?
    private var held: [String] = []
    private var heldCount = 0

    init(interval: TimeInterval, keep: Int = 50) {
        self.interval = interval
        self.keep = keep
    }

    mutating func offer(_ line: String, now: Date) -> Decision {
        guard interval > 0, let lastSent, now.timeIntervalSince(lastSent) < interval else {
            lastSent = now
            return .send
        }
        heldCount += 1
        if held.count < keep { held.append(line) }
        return .held(flushAt: heldCount == 1 ? lastSent.addingTimeInterval(interval) : nil)
    }

    /// The digest's body, or nil when nothing was held; the interval starts again from `now`.
    mutating func digest(now: Date) -> String? {
        guard heldCount > 0 else { return nil }
        defer {
            held.removeAll()
            heldCount = 0
            lastSent = now
        }
        let seconds = Int(interval.rounded())
        var body = "\(heldCount) more CRITICAL record\(heldCount == 1 ? "" : "s") in the \(seconds) s since the last mail:\n\n"
        body += held.joined(separator: "\n")
        if heldCount > held.count { body += "\n... and \(heldCount - held.count) more (see the log)" }
        return body
    }
}
