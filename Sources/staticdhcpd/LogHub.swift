import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization

/// Severity names as conf.lua spells them (server.md §1.2: DEBUG, INFO, WARN, ERROR, CRITICAL).
enum Severity {
    static func parse(_ name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "DEBUG": .debug
        case "INFO": .info
        case "WARN", "WARNING": .warning
        case "ERROR": .error
        case "CRITICAL": .critical
        default: nil
        }
    }

    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}

/// One log record as the dashboard's event list keeps it.
struct LogRecord: Sendable {
    var time: Date
    var level: Logger.Level
    var logger: String
    var message: String
}

/// Where every log record goes: the console, the log file, the dashboard's FIFO.
///
/// Records are formatted on the caller's thread (cheap) and written by one background queue, so
/// a slow terminal or disk never blocks the packet path.
final class LogHub: Sendable {
    struct Configuration: Sendable {
        var consoleLevel: Logger.Level? = .info
        var fileLevel: Logger.Level = .warning
        var filePath: String?
        /// Days of rotated files to keep; 0 means one ever-growing file.
        var fileHistory: Int = 7
        var fifoLevel: Logger.Level = .info
        var fifoCapacity: Int = 200
        var debugFormat = false
    }

    private let configuration: Mutex<Configuration>
    /// The lowest level any sink wants, read on every log call without taking the lock.
    private let threshold = Atomic<UInt8>(0)
    private let fifo = Mutex<[LogRecord]>([])
    private let writer = DispatchQueue(label: "staticdhcpd.log-writer")
    private let file = Mutex<RotatingFile?>(nil)
    /// Records for conf.lua's log handlers.
    let tap = LogTap()

    init(configuration: Configuration) {
        self.configuration = Mutex(configuration)
        reconfigure(configuration)
    }

    func reconfigure(_ next: Configuration) {
        configuration.withLock { $0 = next }
        threshold.store(LogHub.rank(LogHub.lowestLevel(of: next)), ordering: .relaxed)
        writer.async {
            self.file.withLock { current in
                if current?.path != next.filePath {
                    current = next.filePath.map { RotatingFile(path: $0, history: next.fileHistory) }
                } else {
                    current?.history = next.fileHistory
                }
            }
        }
    }

    /// The lowest level any sink wants, so loggers skip building messages nobody reads.
    var lowestLevel: Logger.Level {
        Logger.Level.allCases[Int(threshold.load(ordering: .relaxed))]
    }

    private static func lowestLevel(of config: Configuration) -> Logger.Level {
        [config.consoleLevel, config.filePath == nil ? nil : config.fileLevel, config.fifoCapacity > 0 ? config.fifoLevel : nil]
            .compactMap { $0 }.min() ?? .critical
    }

    private static func rank(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 0)
    }

    func log(_ record: LogRecord) {
        let config = configuration.withLock { $0 }
        tap.offer(record)
        // The FIFO keeps records; only the console and the file need the formatted line.
        if config.fifoCapacity > 0 && record.level >= config.fifoLevel {
            fifo.withLock { records in
                records.append(record)
                if records.count > config.fifoCapacity { records.removeFirst(records.count - config.fifoCapacity) }
            }
        }
        let toConsole = config.consoleLevel.map { record.level >= $0 } ?? false
        let toFile = config.filePath != nil && record.level >= config.fileLevel
        guard toConsole || toFile else { return }
        writer.async {
            let line = self.format(record, debug: config.debugFormat)
            if toConsole { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            if toFile { self.file.withLock { $0?.write(line, at: record.time) } }
        }
    }

    /// The dashboard's events, newest first.
    func recentRecords() -> [LogRecord] { fifo.withLock { $0.reversed() } }

    /// Waits until every queued line is written (shutdown, tests).
    func flush() { writer.sync {} }

    private func format(_ record: LogRecord, debug: Bool) -> String {
        let time = LogHub.timeFormatter.withLock { $0.string(from: record.time) }
        if debug {
            return "\(time) : \(Severity.name(record.level)) : \(record.logger) : \(record.message)"
        }
        return "\(time) : \(Severity.name(record.level)) : \(record.message)"
    }

    private static let timeFormatter: Mutex<DateFormatter> = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
        return Mutex(formatter)
    }()
}

/// A swift-log handler feeding a `LogHub`.
struct HubLogHandler: LogHandler {
    let label: String
    let hub: LogHub
    var metadata: Logger.Metadata = [:]

    /// Follows the hub, so a reload that changes severities applies to every logger at once.
    var logLevel: Logger.Level {
        get { hub.lowestLevel }
        set {}
    }

    init(label: String, hub: LogHub) {
        self.label = label
        self.hub = hub
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        hub.log(LogRecord(time: Date(), level: event.level, logger: label, message: event.message.description))
    }
}

/// Collects log records for conf.lua's log handlers (`callbacks.logAddHandler`) between ticks.
/// Bounded: when handlers fall behind, the oldest records are dropped and counted. Records logged
/// by the thread that is delivering to the handlers are not collected, so a handler that logs (or
/// fails) cannot feed itself.
final class LogTap: Sendable {
    static let capacity = 1000
    private struct State {
        var level: Logger.Level?
        var records: [LogRecord] = []
        var dropped = 0
        var deliveringThread: pthread_t?
    }
    private let state = Mutex(State())

    func offer(_ record: LogRecord) {
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

    func setLevel(_ level: Logger.Level?) {
        state.withLock { state in
            state.level = level
            if level == nil { state.records.removeAll() }
        }
    }

    /// Takes the collected records and runs `deliver` with them, ignoring what this thread logs meanwhile.
    func drain(_ deliver: ([LogRecord], Int) -> Void) {
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
