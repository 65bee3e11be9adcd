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
