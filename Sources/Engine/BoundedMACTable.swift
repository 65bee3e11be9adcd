import DHCPWire

/// A table of one number per MAC that never holds more than `capacity` entries: adding an entry
/// to a full table first evicts the entry added longest ago, and counts the eviction.
///
/// The abuse counters are keyed by a value every client chooses for itself, so without a bound a
/// flood of made-up MACs grows them without limit between two decay ticks. A full table forgets
/// a client early rather than grow (docs/PROTOCOL.md §1.4).
struct BoundedMACTable: Sendable {
    private struct Entry: Sendable {
        var value: Int
        /// When the entry was added; `order` holds the same stamp while it is the live one.
        var stamp: UInt64
    }

    let capacity: Int
    private var entries: [MAC: Entry] = [:]
    /// Entries in the order they were added. Removed or replaced entries stay behind as stale
    /// stamps until eviction skips them or `compactIfSparse` drops them.
    private var order: [(mac: MAC, stamp: UInt64)] = []
    private var head = 0
    private var nextStamp: UInt64 = 0
    /// Entries evicted to make room since the table was made.
    private(set) var evictions = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    /// Slots the insertion order occupies, stale ones included: stays within a small multiple of `capacity`.
    var orderSlots: Int { order.count - head }

    subscript(mac: MAC) -> Int? {
        get { entries[mac]?.value }
        set {
            guard let newValue else {
                entries[mac] = nil
                return
            }
            if entries[mac] != nil {
                entries[mac]!.value = newValue
                return
            }
            if entries.count >= capacity { evictOldest() }
            entries[mac] = Entry(value: newValue, stamp: nextStamp)
            order.append((mac, nextStamp))
            nextStamp += 1
            compactIfSparse()
        }
    }

    /// Replaces every value by `transform(value)`, removing the entries it maps to nil.
    mutating func update(_ transform: (Int) -> Int?) {
        for (mac, entry) in entries {
            if let value = transform(entry.value) {
                entries[mac]!.value = value
            } else {
                entries[mac] = nil
            }
        }
        compactIfSparse()
    }

    mutating func removeAll() {
        entries.removeAll()
        order.removeAll()
        head = 0
    }

    private mutating func evictOldest() {
        while head < order.count {
            let oldest = order[head]
            head += 1
            if entries[oldest.mac]?.stamp == oldest.stamp {
                entries[oldest.mac] = nil
                evictions += 1
                return
            }
        }
    }

    /// Drops stale slots once they outnumber the live entries, so the order costs O(capacity) memory.
    private mutating func compactIfSparse() {
        guard orderSlots > 2 * capacity || (head > 0 && head >= order.count / 2 && head > 64) else { return }
        order = order[head...].filter { entries[$0.mac]?.stamp == $0.stamp }
        head = 0
    }
}
