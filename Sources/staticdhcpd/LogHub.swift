import Dispatch
import Foundation
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
    private let fifo = Mutex<[LogRecord]>([])
    private let writer = DispatchQueue(label: "staticdhcpd.log-writer")
    private let file = Mutex<RotatingFile?>(nil)

    init(configuration: Configuration) {
        self.configuration = Mutex(configuration)
        reconfigure(configuration)
    }

    func reconfigure(_ next: Configuration) {
        configuration.withLock { $0 = next }
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

    /// The lowest level any sink wants, so loggers can skip building messages nobody reads.
    var lowestLevel: Logger.Level {
        configuration.withLock { config in
            [config.consoleLevel, config.filePath == nil ? nil : config.fileLevel, config.fifoCapacity > 0 ? config.fifoLevel : nil]
                .compactMap { $0 }.min() ?? .critical
        }
    }

    func log(_ record: LogRecord) {
        let config = configuration.withLock { $0 }
        let line = format(record, debug: config.debugFormat)
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
    var logLevel: Logger.Level

    init(label: String, hub: LogHub) {
        self.label = label
        self.hub = hub
        logLevel = hub.lowestLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        hub.log(LogRecord(time: Date(), level: event.level, logger: label, message: event.message.description))
    }
}
