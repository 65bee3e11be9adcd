/// Decides, from how long each datagram waited in its socket's receive buffer, whether it is still
/// worth answering (docs/ARCHITECTURE.md, "Overload").
///
/// The buffer is deep (`NetworkConfig.receiveBufferBytes`) so that a burst waits instead of being
/// lost. But when requests arrive faster than the engine answers them for more than a moment, the
/// buffer turns into a standing queue: every request waits behind the whole backlog, each reply is
/// late, and once the load falls back to what the server can serve the backlog drains only at the
/// spare capacity, so clients keep timing out for many seconds after the overload has passed.
///
/// So a request that waited longer than `overloadedAge` starts a shedding episode: it and every
/// later datagram that waited longer than `recoveredAge` are dropped unanswered (reading and
/// dropping one costs a microsecond, answering it far more), which empties the old part of the
/// queue at once. The episode ends at the first datagram younger than `recoveredAge`. A burst
/// shorter than `overloadedAge` is answered in full; clients whose requests were dropped retry
/// (RFC 2131 §4.1: after about 4 s), by then to a server that answers at once.
public struct BacklogShedder: Sendable {
    /// Half a second: far beyond any wait a served request sees, and well inside a client's
    /// retransmission interval, so a reply sent in time is still used.
    public static let overloadedAge: Int64 = 500_000_000
    /// Where an episode ends: the queue is back to a fraction of a second.
    public static let recoveredAge: Int64 = 200_000_000

    public private(set) var shedding = false

    public init() {}

    /// Whether a datagram that waited `age` nanoseconds is answered (nil: the kernel gave no time).
    public mutating func admits(age: Int64?) -> Bool {
        guard let age else { return true }
        if shedding {
            if age > Self.recoveredAge { return false }
            shedding = false
            return true
        }
        if age > Self.overloadedAge {
            shedding = true
            return false
        }
        return true
    }
}
