import Databases
import DHCPWire

/// What the database said for the OFFERs still waiting for their REQUEST, so that the REQUEST
/// answering an OFFER is judged on the same reservation and the database is asked once per
/// DISCOVER/REQUEST exchange instead of twice.
///
/// A REQUEST:SELECTING carries the xid of the OFFER it accepts (RFC 2131 §4.4.1). Only that
/// REQUEST — same MAC, same xid, same configuration generation, within `window` — takes the
/// remembered answer, and takes it once; every other request asks the database. The hooks
/// (`handleUnknownMAC`, `filterRetrievedDefinitions`, `loadDHCPPacket`) still run on the REQUEST:
/// only the lookup is saved. An edit made between OFFER and REQUEST applies from the client's
/// next exchange, and the ACK always matches the OFFER the client accepted.
struct OfferMemo {
    struct Entry {
        var xid: UInt32
        var generation: Int
        var found: [Definition]
        var expires: ContinuousClock.Instant
    }

    /// How long an OFFER's answer is kept; zero turns the memo off.
    let window: Duration
    /// At most this many OFFERs are remembered; past it, the expired ones go, then all of them
    /// (a flood of DISCOVERs that never REQUEST must not grow memory).
    let capacity: Int
    private var entries: [MAC: Entry] = [:]

    init(window: Duration = .seconds(10), capacity: Int = 4096) {
        self.window = window
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// Remembers the database's answer behind an OFFER just sent.
    mutating func remember(_ found: [Definition], mac: MAC, xid: UInt32, generation: Int, now: ContinuousClock.Instant) {
        guard window > .zero else { return }
        if entries.count >= capacity && entries[mac] == nil {
            removeExpired(now: now)
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[mac] = Entry(xid: xid, generation: generation, found: found, expires: now + window)
    }

    /// The answer behind the OFFER this REQUEST accepts, if it is still remembered; forgotten
    /// either way, so a retransmitted REQUEST asks the database.
    mutating func take(mac: MAC, xid: UInt32, generation: Int, now: ContinuousClock.Instant) -> [Definition]? {
        guard let entry = entries.removeValue(forKey: mac) else { return nil }
        guard entry.xid == xid, entry.generation == generation, now < entry.expires else { return nil }
        return entry.found
    }

    /// Called on the 1 Hz tick.
    mutating func removeExpired(now: ContinuousClock.Instant) {
        guard !entries.isEmpty else { return }
        entries = entries.filter { now < $0.value.expires }
    }
}
