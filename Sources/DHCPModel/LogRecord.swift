import Foundation
import Logging

/// Severity names as conf.lua spells them (DEBUG, INFO, WARN, ERROR, CRITICAL).
public enum Severity {
    public static func parse(_ name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "DEBUG": .debug
        case "INFO": .info
        case "WARN", "WARNING": .warning
        case "ERROR": .error
        case "CRITICAL": .critical
        default: nil
        }
    }

    public static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}

/// The five severities the daemon speaks of: conf.lua's `logger.debug` ... `logger.critical` (the
/// raw values are the levels scripts and their log handlers see), the dashboard's, and those
/// swift-log's seven fold into.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error, critical

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// swift-log's five levels fold into the scripts' five (trace is debug, notice is info).
    public init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }

    public var swiftLogLevel: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }

    /// The name conf.lua's log handlers see (`level_name`), as the original's logging module
    /// spells it: DEBUG, INFO, WARNING, ERROR, CRITICAL.
    public var name: String { Severity.name(swiftLogLevel) }

    /// The dashboard's name: its CSS class and `/api/log`'s `level` (debug, info, warn, error, critical).
    public var dashboardName: String { self == .warning ? "warn" : name.lowercased() }
}

/// One log record: as the daemon's sinks write it, the dashboard's event list and conf.lua's log
/// handlers receive it, and `explain` reports it.
public struct LogRecord: Sendable, Codable, Equatable {
    public var time: Date
    public var level: Logger.Level
    /// The logger's name: `conf` for conf.lua's own records, `dhcp` for the engine's, ...
    public var logger: String
    public var message: String

    public init(time: Date, level: Logger.Level, logger: String, message: String) {
        self.time = time
        self.level = level
        self.logger = logger
        self.message = message
    }
}
