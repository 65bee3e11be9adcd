// LogRecord and Severity are DHCPModel's (the dashboard and conf.lua's handlers read the same
// records): re-exported because they are in this module's public signatures.
@_exported import DHCPModel
import Dispatch
import Foundation
import Logging
import Synchronization

/// Where every log record goes: the console, the log file, the dashboard's FIFO.
///
/// Records are formatted on the caller's thread (cheap) and written by one background queue, so
/// a slow terminal or disk never blocks the packet path. CRITICAL records are also mailed when
/// `email` is set, by a `CriticalMailer` that sends from its own task.
public final class LogHub: Sendable {
    public struct Configuration: Sendable {
        public var consoleLevel: Logger.Level? = .info
        public var fileLevel: Logger.Level = .warning
        public var filePath: String?
        /// Days of rotated files to keep; 0 means one ever-growing file.
        public var fileHistory: Int = 7
        public var fifoLevel: Logger.Level = .info
        public var fifoCapacity: Int = 200
        public var debugFormat = false
        /// EMAIL_ENABLED: where CRITICAL records are mailed; nil mails nothing.
        public var email: EmailSettings?
        /// Seconds between mails: records in between are sent as one digest (`MailThrottle`).
        public var mailInterval: TimeInterval = 60

        public init() {}
    }

    private let configuration: Mutex<Configuration>
    /// The lowest level any sink wants, read on every log call without taking the lock.
    private let threshold = Atomic<UInt8>(0)
    /// Records for conf.lua's log handlers.
    public let tap = LogTap()
    private let fifo = Mutex(RecordRing(capacity: 0))
    private let writer = DispatchQueue(label: "staticdhcpd.log-writer")
    private let file = Mutex<RotatingFile?>(nil)
    private let mailer: CriticalMailer
    private let throttle = Mutex(MailThrottle(interval: 60))
    private let hostName = SMTPClient.localHostName()

    /// `mailTransport` is the seam tests use to see or fail deliveries.
    public init(configuration: Configuration, mailTransport: any MailTransport = SMTPClient()) {
        self.configuration = Mutex(configuration)
        mailer = CriticalMailer(transport: mailTransport)
        reconfigure(configuration)
    }

    public func reconfigure(_ next: Configuration) {
        configuration.withLock { $0 = next }
        throttle.withLock { $0.interval = next.mailInterval }
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
    public var lowestLevel: Logger.Level {
        Logger.Level.allCases[Int(threshold.load(ordering: .relaxed))]
    }

    private static func lowestLevel(of config: Configuration) -> Logger.Level {
        [config.consoleLevel, config.filePath == nil ? nil : config.fileLevel, config.fifoCapacity > 0 ? config.fifoLevel : nil,
         config.email == nil ? nil : .critical]
            .compactMap { $0 }.min() ?? .critical
    }

    private static func rank(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 0)
    }

    public func log(_ record: LogRecord) {
        let config = configuration.withLock { $0 }
        tap.offer(record)
        if record.level == .critical, let email = config.email {
            mail(format(record, debug: config.debugFormat), record: record, settings: email)
        }
        if config.fifoCapacity > 0 && record.level >= config.fifoLevel {
            fifo.withLock { ring in
                if ring.capacity != config.fifoCapacity { ring.resize(to: config.fifoCapacity) }
                ring.append(record)
            }
        }
        let toConsole = config.consoleLevel.map { record.level >= $0 } ?? false
        let toFile = config.filePath != nil && record.level >= config.fileLevel
        guard toConsole || toFile else { return }
        // Formatting (a DateFormatter) happens on the writer queue, off the packet path.
        writer.async {
            let line = self.format(record, debug: config.debugFormat)
            if toConsole { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            if toFile { self.file.withLock { $0?.write(line, at: record.time) } }
        }
    }

    /// The dashboard's events, newest first.
    public func recentRecords() -> [LogRecord] { fifo.withLock { $0.newestFirst() } }

    /// Waits until every queued line is written (shutdown, tests).
    public func flush() { writer.sync {} }

    /// Waits up to `seconds` for queued mails (at exit); returns whether all were handled.
    @discardableResult
    public func flushMail(seconds: Double) -> Bool {
        sendDigest()
        return mailer.waitUntilIdle(seconds: seconds)
    }

    /// Mails waiting to be sent.
    public var mailsWaiting: Int { mailer.waiting }

    private func mail(_ line: String, record: LogRecord, settings: EmailSettings) {
        switch throttle.withLock({ $0.offer(line, now: Date()) }) {
        case .send:
            send(body: "\(line)\n\n-- \nstaticdhcpd on \(hostName), pid \(getpid()), logger '\(record.logger)'\n",
                 date: record.time, settings: settings)
        case .held(let flushAt?):
            writer.asyncAfter(deadline: .now() + max(0, flushAt.timeIntervalSinceNow)) { self.sendDigest() }
        case .held(nil):
            break
        }
    }

    /// Mails what the throttle held back, if anything (when its interval ends, and at exit).
    private func sendDigest() {
        guard let settings = configuration.withLock({ $0.email }),
              let body = throttle.withLock({ $0.digest(now: Date()) }) else { return }
        send(body: "\(body)\n\n-- \nstaticdhcpd on \(hostName), pid \(getpid())\n", date: Date(), settings: settings)
    }

    private func send(body: String, date: Date, settings: EmailSettings) {
        let message = MailMessage(from: settings.source, to: settings.destinations, subject: settings.subject, body: body, date: date)
        let target = "\(settings.server):\(settings.port)"
        // The report is logged at ERROR or WARNING: mail only takes CRITICAL, so it cannot recurse.
        mailer.submit(message, settings: settings) { [weak self] event in
            let (level, text): (Logger.Level, String) = switch event {
            case .failing(let reason):
                (.error, "E-mail of CRITICAL records to \(target) failed: \(reason) (further failures are not logged until a mail gets through)")
            case .recovered(let failed):
                (.warning, "E-mail of CRITICAL records to \(target) works again; \(failed) mail\(failed == 1 ? "" : "s") could not be sent")
            case .dropped(let count):
                (.error, "E-mail of CRITICAL records to \(target) is falling behind; \(count) mail\(count == 1 ? "" : "s") dropped so far")
            }
            self?.log(LogRecord(time: Date(), level: level, logger: "main", message: text))
        }
    }

    private func format(_ record: LogRecord, debug: Bool) -> String {
        let time = LogTime.logLine(record.time)
        if debug {
            return "\(time) : \(Severity.name(record.level)) : \(record.logger) : \(record.message)"
        }
        return "\(time) : \(Severity.name(record.level)) : \(record.message)"
    }
}

/// A swift-log handler feeding a `LogHub`.
public struct HubLogHandler: LogHandler {
    public let label: String
    public let hub: LogHub
    public var metadata: Logger.Metadata = [:]
    /// Follows the hub, so a reload that changes severities applies to every logger at once.
    public var logLevel: Logger.Level {
        get { hub.lowestLevel }
        set {}
    }

    public init(label: String, hub: LogHub) {
        self.label = label
        self.hub = hub
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        hub.log(LogRecord(time: Date(), level: event.level, logger: label, message: event.message.description))
    }
}
