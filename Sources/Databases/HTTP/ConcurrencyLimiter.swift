/// Lets at most `limit` operations run at once; the others wait their turn in arrival order
/// (the counting semaphore of the original's `CachingDatabase(concurrency_limit)`).
///
/// A waiter whose task is cancelled (a `DATABASE_TIMEOUT` expiring, say) leaves the queue at
/// once with `CancellationError` and never takes a slot.
final class ConcurrencyLimiter: Sendable {
    private enum Waiter {
        /// Queued, its continuation not yet installed.
        case registering
        case waiting(CheckedContinuation<Void, any Error>)
        /// Given a slot before its continuation was installed.
        case granted
        /// Cancelled before its continuation was installed.
        case cancelled
    }

    private struct State {
        var available: Int
        var queue: [UInt64] = []
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }

    let limit: Int
    private let state: Locked<State>

    init(limit: Int) {
        self.limit = max(limit, 1)
        state = Locked(State(available: max(limit, 1)))
    }

    /// Operations running now (for tests and diagnostics).
    var inFlight: Int { state.withLock { limit - $0.available } }
    /// Operations waiting for a slot.
    var waiting: Int { state.withLock { $0.queue.count } }

    func withPermit<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let ticket = state.withLock { state -> UInt64? in
            if state.available > 0, state.queue.isEmpty {
                state.available -= 1
                return nil
            }
            state.nextID &+= 1
            state.queue.append(state.nextID)
            state.waiters[state.nextID] = .registering
            return state.nextID
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    switch state.waiters[ticket] {
                    case .registering:
                        state.waiters[ticket] = .waiting(continuation)
                        return nil
                    case .granted:
                        state.waiters[ticket] = nil
                        return .success(())
                    default:
                        state.waiters[ticket] = nil
                        return .failure(CancellationError())
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                switch state.waiters[ticket] {
                case .registering:
                    state.waiters[ticket] = .cancelled
                    state.queue.removeAll { $0 == ticket }
                    return nil
                case .waiting(let continuation):
                    state.waiters[ticket] = nil
                    state.queue.removeAll { $0 == ticket }
                    return continuation
                default:
                    // Already given its slot: the operation runs and sees the cancellation itself.
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            while !state.queue.isEmpty {
                let ticket = state.queue.removeFirst()
                switch state.waiters[ticket] {
                case .waiting(let continuation):
                    state.waiters[ticket] = nil
                    return continuation
                case .registering:
                    state.waiters[ticket] = .granted
                    return nil
                default:
                    continue
                }
            }
            state.available += 1
            return nil
        }
        next?.resume()
    }
}
