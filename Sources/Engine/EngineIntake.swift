import Synchronization

/// The bounded queue between the receive threads and the engine.
///
/// Receive threads `push`; the engine's single drain task `takeAll`s. Only the first datagram into
/// an idle queue starts a drain, so under load there is one task for thousands of datagrams
/// rather than one each. `inFlight` counts datagrams queued or being handled (a parked lookup
/// included), which is what bounds memory and what shutdown waits for.
public final class EngineIntake: Sendable {
    /// Datagrams queued or in the engine beyond which new ones are dropped on arrival.
    public static let defaultLimit = 2048

    public enum PushResult: Equatable {
        /// Queued; `startDrain` when no drain task is running and the caller must start one.
        case queued(startDrain: Bool)
        /// Dropped: the engine is `limit` datagrams behind.
        case shed
    }

    private struct Queue {
        var datagrams: [Datagram] = []
        var draining = false
    }

    public let limit: Int
    private let queue = Mutex(Queue())
    private let inFlightCount = Atomic<Int>(0)
    private let shedCount = Atomic<Int>(0)

    public init(limit: Int = EngineIntake.defaultLimit) {
        self.limit = limit
    }

    /// Datagrams queued or being handled.
    public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }
    /// Datagrams dropped on arrival because the engine was `limit` behind.
    public var shed: Int { shedCount.load(ordering: .relaxed) }

    public func push(_ datagram: Datagram) -> PushResult {
        guard inFlightCount.load(ordering: .relaxed) < limit else {
            shedCount.add(1, ordering: .relaxed)
            return .shed
        }
        inFlightCount.add(1, ordering: .relaxed)
        let startDrain = queue.withLock { queue in
            queue.datagrams.append(datagram)
            if queue.draining { return false }
            queue.draining = true
            return true
        }
        return .queued(startDrain: startDrain)
    }

    /// Everything queued so far; empty (and the drain marked finished) when nothing is.
    func takeAll() -> [Datagram] {
        queue.withLock { queue in
            if queue.datagrams.isEmpty {
                queue.draining = false
                return []
            }
            var batch: [Datagram] = []
            batch.reserveCapacity(queue.datagrams.count)
            swap(&batch, &queue.datagrams)
            return batch
        }
    }

    /// One datagram's handling is over.
    func finished() {
        inFlightCount.subtract(1, ordering: .relaxed)
    }
}
