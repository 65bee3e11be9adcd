import DHCPWire

/// `DATABASE_TIMEOUT`: fails a backend lookup that takes longer than `seconds`.
///
/// The slow lookup is cancelled but not awaited: a driver that ignores cancellation finishes in
/// the background while the caller has already moved on, so a hung backend costs one error per
/// request rather than a stalled server.
public struct TimeoutDatabase: Database {
    public let backend: any Database
    public let seconds: Double
    /// The backend's immediate path, found once here rather than by a cast per lookup.
    let immediateBackend: (any ImmediateLookup)?
    /// This database's lookups in flight, with their deadlines.
    let deadlines: DeadlineQueue

    public init(_ backend: any Database, seconds: Double) {
        self.backend = backend
        self.seconds = seconds
        immediateBackend = backend as? any ImmediateLookup
        deadlines = DeadlineQueue(seconds: seconds, error: .timeout(engine: backend.engineName, seconds: seconds))
    }

    public var engineName: String { backend.engineName }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        try await deadlines.run { [backend] in try await backend.lookupMAC(mac) }
    }

    public func reinitialise() async throws {
        try await deadlines.run { [backend] in try await backend.reinitialise() }
    }
}

/// Deadlines for operations that all share one timeout, without a timer per operation.
///
/// A timer per lookup (a `Task.sleep` racing the work) registers and cancels a Dispatch timer
/// each time, several thread wake-ups that cost more than a remote lookup's own work. Here each
/// operation only appends its deadline under a lock; as they all have the same timeout, the
/// deadlines expire in the order they were added, and one watcher task reads them from the
/// oldest. The watcher sleeps until the oldest deadline but at least `step`, so under steady
/// traffic it wakes about once per timeout, and it ends when nothing is pending. Timeouts thus
/// fire up to `step` late, which is nothing next to a `DATABASE_TIMEOUT` given in seconds.
///
/// The work still needs a task of its own: the caller must be resumed at the deadline even when
/// the driver never returns, and a task cannot leave a call it is suspended in.
final class DeadlineQueue: Sendable {
    static let step = Duration.milliseconds(50)

    private struct Pending {
        let deadline: ContinuousClock.Instant
        let outcome: any Expiring
    }

    private struct State {
        /// By number of arrival; `oldest ..< next` holds them all (finished ones are removed).
        var pending: [UInt64: Pending] = [:]
        var oldest: UInt64 = 0
        var next: UInt64 = 0
        var watching = false
    }

    let timeout: Duration
    let error: DatabaseError
    private let state = Locked(State())

    init(seconds: Double, error: DatabaseError) {
        timeout = .seconds(seconds)
        self.error = error
    }

    /// Operations started and neither finished nor expired (for tests).
    var pendingCount: Int { state.withLock { $0.pending.count } }
    /// Whether the watcher task is running (for tests: it stops when nothing is pending).
    var isWatching: Bool { state.withLock { $0.watching } }

    /// Runs `operation`, throwing `error` if it has not finished within the timeout; a cancelled
    /// caller gets `CancellationError`. Whichever comes first wins; the operation is then
    /// cancelled (unless it was the winner) and left to finish on its own.
    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = OnceContinuation<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.install(continuation)
                let number = add(outcome)
                outcome.attach(Task {
                    let result: Result<T, any Error>
                    do { result = .success(try await operation()) } catch { result = .failure(error) }
                    remove(number) // first, so a caller that got the answer finds nothing pending
                    outcome.resume(with: result)
                })
            }
        } onCancel: {
            outcome.resume(with: .failure(CancellationError()), cancellingWork: true)
        }
    }

    private func add(_ outcome: any Expiring) -> UInt64 {
        let deadline = ContinuousClock.now + timeout
        let (number, startWatcher) = state.withLock { state in
            let number = state.next
            state.next += 1
            state.pending[number] = Pending(deadline: deadline, outcome: outcome)
            defer { state.watching = true }
            return (number, !state.watching)
        }
        if startWatcher { Task.detached { await self.watch() } }
        return number
    }

    private func remove(_ number: UInt64) {
        _ = state.withLock { $0.pending.removeValue(forKey: number) }
    }

    /// Expires what is due, then sleeps; ends (under the lock, so `add` starts a new one) when
    /// nothing is pending.
    private func watch() async {
        while true {
            let now = ContinuousClock.now
            let (expired, wake) = state.withLock { state -> ([any Expiring], ContinuousClock.Instant?) in
                var expired: [any Expiring] = []
                if state.pending.isEmpty { state.oldest = state.next }
                while state.oldest < state.next {
                    if let head = state.pending[state.oldest] {
                        guard head.deadline <= now else { return (expired, head.deadline) }
                        state.pending[state.oldest] = nil
                        expired.append(head.outcome)
                    }
                    state.oldest += 1
                }
                state.watching = false
                return (expired, nil)
            }
            for outcome in expired { outcome.expire(error) }
            guard let wake else { return }
            try? await Task.sleep(until: max(wake, now + Self.step), clock: .continuous)
        }
    }
}

/// An operation the watcher can fail at its deadline.
protocol Expiring: AnyObject, Sendable {
    func expire(_ error: any Error)
}

/// Runs `operation`, throwing `error` if it has not finished after `seconds`: for one-off
/// operations with their own timeout (a `DeadlineQueue` serves many that share one).
func withDeadline<T: Sendable>(
    _ seconds: Double, error: DatabaseError, operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = OnceContinuation<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.install(continuation)
            let work = Task {
                do { outcome.resume(with: .success(try await operation())) } catch { outcome.resume(with: .failure(error)) }
            }
            let timer = Task {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                if outcome.resume(with: .failure(error)) { work.cancel() }
            }
            outcome.onFinish { timer.cancel() }
        }
    } onCancel: {
        outcome.resume(with: .failure(CancellationError()))
    }
}

/// A continuation that the first of several racers resumes; later attempts are ignored.
final class OnceContinuation<T: Sendable>: Expiring {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var finished = false
        var onFinish: (@Sendable () -> Void)?
        /// The task doing the work, kept only until the outcome is known.
        var work: Task<Void, Never>?
        var cancelsWork = false
    }

    private let state = Locked(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let pending = state.pending { return pending }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.finished { return true }
            state.onFinish = action
            return false
        }
        if runNow { action() }
    }

    /// The task doing the work, for `resume(with:cancellingWork:)` to cancel, even if that came first.
    func attach(_ work: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            if !state.finished { state.work = work }
            return state.cancelsWork
        }
        if cancelNow { work.cancel() }
    }

    func expire(_ error: any Error) {
        resume(with: .failure(error), cancellingWork: true)
    }

    /// True when this call was the one that resumed; the winner with `cancellingWork` cancels
    /// the attached work.
    @discardableResult
    func resume(with result: Result<T, any Error>, cancellingWork: Bool = false) -> Bool {
        let (continuation, action, work, won) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Task<Void, Never>?, Bool) in
            guard !state.finished else { return (nil, nil, nil, false) }
            state.finished = true
            state.cancelsWork = cancellingWork
            let action = state.onFinish
            state.onFinish = nil
            let work = state.work
            state.work = nil
            let continuation = state.continuation
            state.continuation = nil
            if continuation == nil { state.pending = result }
            return (continuation, action, cancellingWork ? work : nil, true)
        }
        continuation?.resume(with: result)
        action?()
        work?.cancel()
        return won
    }
}
