import Foundation
import Glibc
import Logging
import Scripting

/// The running daemon's pid file: `PID_FILE`, else `staticdhcpd.pid` in STATE_DIRECTORY
/// (`Settings.controlPIDFile`). The daemon keeps it; `staticdhcpd reload` reads it to find the
/// daemon of a conf.lua, and waits beside it for the outcome (`ReloadStatusFile`).
public enum PIDFile {
    public static func write(_ path: String, logger: Logger) {
        if FileManager.default.fileExists(atPath: path) {
            logger.warning("PID file \(path) already exists; overwriting it")
        }
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            logger.error("Cannot write PID file \(path): \(error)")
        }
    }

    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    public static func read(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Where the daemon of `configFile` keeps its pid (`Settings.controlPIDFile`: PID_FILE, else
    /// `staticdhcpd.pid` in STATE_DIRECTORY). The file being reloaded may be broken (that is what
    /// the daemon will report), so when it does not load, plain `PID_FILE = "..."` and
    /// `STATE_DIRECTORY = "..."` lines are read instead.
    public static func location(for configFile: URL) -> String {
        let report = ScriptRuntime.checkConfig(configFile: configFile)
        if let settings = report.settings {
            return settings.resolvingPaths(relativeTo: configFile).controlPIDFile(configFile: configFile)
        }
        let text = (try? String(contentsOf: configFile, encoding: .utf8)) ?? ""
        var settings = Settings()
        settings.pidFile = quotedSetting("PID_FILE", in: text)
        settings.stateDirectory = quotedSetting("STATE_DIRECTORY", in: text)
        return settings.resolvingPaths(relativeTo: configFile).controlPIDFile(configFile: configFile)
    }

    /// The string of a top-level `NAME = "value"` line (the last one, as Lua would leave it).
    static func quotedSetting(_ name: String, in text: String) -> String? {
        var found: String?
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(name), let equals = trimmed.firstIndex(of: "="),
                  trimmed[trimmed.index(trimmed.startIndex, offsetBy: name.count)..<equals].allSatisfy(\.isWhitespace)
            else { continue }
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard let quote = value.first, quote == "\"" || quote == "'",
                  let end = value.dropFirst().firstIndex(of: quote) else { continue }
            found = String(value[value.index(after: value.startIndex)..<end])
        }
        return found
    }
}
