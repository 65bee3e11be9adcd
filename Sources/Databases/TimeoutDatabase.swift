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

    public init(_ backend: any Database, seconds: Double) {
        self.backend = backend
        self.seconds = seconds
        immediateBackend = backend as? any ImmediateLookup
    }

    public var engineName: String { backend.engineName }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        try await withDeadline(seconds, error: .timeout(engine: engineName, seconds: seconds)) { [backend] in
            try await backend.lookupMAC(mac)
        }
    }

    public func reinitialise() async throws {
        try await withDeadline(seconds, error: .timeout(engine: engineName, seconds: seconds)) { [backend] in
            try await backend.reinitialise()
        }
    }
}

/// Runs `operation`, throwing `error` if it has not finished after `seconds`.
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
final class OnceContinuation<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var finished = false
        var onFinish: (@Sendable () -> Void)?
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

    /// True when this call was the one that resumed.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let (continuation, action, won) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Bool) in
            guard !state.finished else { return (nil, nil, false) }
            state.finished = true
            let action = state.onFinish
            state.onFinish = nil
            if let continuation = state.continuation {
                state.continuation = nil
                return (continuation, action, true)
            }
            state.pending = result
            return (nil, action, true)
        }
        continuation?.resume(with: result)
        action?()
        return won
    }
}
