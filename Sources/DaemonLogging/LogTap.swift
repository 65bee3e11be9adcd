import DHCPModel
import Glibc
import Logging
import Synchronization

/// Collects log records for conf.lua's log handlers (`callbacks.logAddHandler`) between ticks.
/// Bounded: when handlers fall behind, the oldest records are dropped and counted. Records logged
/// by the thread that is delivering to the handlers are not collected, so a handler that logs (or
/// fails) cannot feed itself.
public final class LogTap: Sendable {
    public static let capacity = 1000
    private struct State {
        var level: Logger.Level?
        var records: [LogRecord] = []
        var dropped = 0
        var deliveringThread: pthread_t?
    }
    private let state = Mutex(State())

    public init() {}

    public func offer(_ record: LogRecord) {
        let me = pthread_self()
        state.withLock { state in
            guard let level = state.level, record.level >= level else { return }
            if let delivering = state.deliveringThread, pthread_equal(delivering, me) != 0 { return }
            state.records.append(record)
            if state.records.count > LogTap.capacity {
                state.records.removeFirst(state.records.count - LogTap.capacity)
                state.dropped += 1
            }
        }
    }

    public func setLevel(_ level: Logger.Level?) {
        state.withLock { state in
            state.level = level
            if level == nil { state.records.removeAll() }
        }
    }

    /// Takes the collected records and runs `deliver` with them, ignoring what this thread logs meanwhile.
    public func drain(_ deliver: ([LogRecord], Int) -> Void) {
        let (records, dropped) = state.withLock { state in
            defer { state.records.removeAll(); state.dropped = 0 }
            return (state.records, state.dropped)
        }
        guard !records.isEmpty else { return }
        state.withLock { $0.deliveringThread = pthread_self() }
        defer { state.withLock { $0.deliveringThread = nil } }
        deliver(records, dropped)
    }
}
