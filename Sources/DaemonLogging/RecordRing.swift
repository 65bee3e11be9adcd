import DHCPModel
/// The last `capacity` log records, oldest overwritten first. Appending never moves the others
/// (an array trimmed with `removeFirst` shifts every record on each append once full, and the
/// dashboard's FIFO takes several records per DHCP exchange).
struct RecordRing {
    private var slots: [LogRecord] = []
    private var next = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    mutating func append(_ record: LogRecord) {
        guard capacity > 0 else { return }
        if slots.count < capacity {
            slots.append(record)
        } else {
            slots[next] = record
        }
        next = (next + 1) % capacity
    }

    /// Keeps the newest records that fit the new capacity.
    mutating func resize(to newCapacity: Int) {
        guard newCapacity != capacity else { return }
        let kept = Array(oldestFirst().suffix(max(0, newCapacity)))
        self = RecordRing(capacity: newCapacity)
        for record in kept { append(record) }
    }

    func oldestFirst() -> [LogRecord] {
        guard slots.count == capacity else { return slots }
        return Array(slots[next...] + slots[..<next])
    }

    func newestFirst() -> [LogRecord] { oldestFirst().reversed() }
}
