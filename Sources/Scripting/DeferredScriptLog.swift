import Synchronization

/// The scripts' log while the daemon starts: records wait here until logging is set up (conf.lua's
/// top level runs before that), then go to the attached log, as every later record does.
public final class DeferredScriptLog: ScriptLog {
    private let state = Mutex<(buffer: [(LogLevel, String, String)], target: (any ScriptLog)?)>(([], nil))

    public init() {}

    public func log(_ level: LogLevel, logger: String, _ message: String) {
        let target: (any ScriptLog)? = state.withLock { state in
            if state.target == nil { state.buffer.append((level, logger, message)) }
            return state.target
        }
        target?.log(level, logger: logger, message)
    }

    /// Sends what waited to `target`, oldest first, and every record after it.
    public func attach(_ target: any ScriptLog) {
        let buffered = state.withLock { state in
            state.target = target
            defer { state.buffer.removeAll() }
            return state.buffer
        }
        for (level, logger, message) in buffered { target.log(level, logger: logger, message) }
    }
}
