import DHCPModel
import Foundation
import Logging
import Synchronization

/// Keeps the log records written while `staticdhcpd explain` runs its request, for the report.
/// Loggers made with `logger(label:)` write here and nowhere else, so explain's records never
/// reach the daemon's log file, and a record written before `startRun()` (conf.lua loading,
/// `init()`, opening the database) is not part of the request's story.
public final class ExplainLogCapture: Sendable {
    private struct State {
        var records: [LogRecord] = []
        var recording = false
    }

    private let state = Mutex(State())
    /// Records below this level are not kept.
    public let level: Logger.Level

    public init(level: Logger.Level = .debug) {
        self.level = level
    }

    public func logger(label: String) -> Logger {
        Logger(label: label) { [self] label in Handler(label: label, capture: self) }
    }

    /// From now on records are kept.
    public func startRun() { state.withLock { $0.recording = true } }

    public var records: [LogRecord] { state.withLock { $0.records } }

    fileprivate func keep(_ record: LogRecord) {
        state.withLock { state in
            if state.recording { state.records.append(record) }
        }
    }

    private struct Handler: LogHandler {
        let label: String
        let capture: ExplainLogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level

        init(label: String, capture: ExplainLogCapture) {
            self.label = label
            self.capture = capture
            logLevel = capture.level
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        /// A script's record names its logger in the `logger` metadata (`SwiftLogScriptLog`):
        /// that name is the record's label, as the daemon's log shows it.
        func log(event: LogEvent) {
            var message = event.message.description
            var merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let name = merged.removeValue(forKey: "logger").map { "\($0)" } ?? label
            if !merged.isEmpty {
                message += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            capture.keep(LogRecord(time: Date(), level: event.level, logger: name, message: message))
        }
    }
}
