import ArgumentParser
import Foundation
import Glibc
import Scripting

/// `staticdhcpd reload`: finds the running daemon by conf.lua's PID_FILE (or, without one, the pid
/// file the daemon keeps in STATE_DIRECTORY), sends it SIGHUP,
/// waits for the outcome and reports it (exit 0 when the new conf.lua is live).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running daemon reload conf.lua, and report how it went."
    )

    @OptionGroup var config: ConfigOption

    @Option(help: "Seconds to wait for the outcome.")
    var timeout: Double = 30

    @Option(name: .customLong("pid-file"), help: "The daemon's pid file (default: conf.lua's PID_FILE, else staticdhcpd.pid in its STATE_DIRECTORY).")
    var pidFileOption: String?

    func run() throws {
        let file = try config.locate()
        let pidFile = pidFileOption ?? Self.pidFile(in: file)
        guard let pid = PIDFile.read(pidFile), kill(pid, 0) == 0 else {
            throw ValidationError("no running daemon for \(file.path): \(pidFile) is missing or names no live process")
        }
        let before = ReloadStatusFile.read(pidFile: pidFile)?.identity
        guard kill(pid, SIGHUP) == 0 else {
            throw ValidationError("cannot signal process \(pid): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = ReloadStatusFile.read(pidFile: pidFile), status.identity != before {
                let outcome = status.outcome
                for warning in outcome.warnings { printError("warning: \(warning)") }
                if outcome.succeeded {
                    print("reloaded: generation \(outcome.generation) is live (\(String(format: "%.3f", outcome.durationSeconds)) s)")
                    return
                }
                printError("reload rejected; generation \(outcome.generation) keeps serving:\n\(outcome.error ?? "unknown error")")
                throw ExitCode(1)
            }
            usleep(50_000)
        }
        printError("no outcome from process \(pid) within \(timeout) s")
        throw ExitCode(2)
    }
}

extension ReloadCommand {
    /// Where the daemon of `configFile` keeps its pid (`Settings.controlPIDFile`: PID_FILE, else
    /// `staticdhcpd.pid` in STATE_DIRECTORY). The file being reloaded may be broken (that is what
    /// the daemon will report), so when it does not load, plain `PID_FILE = "..."` and
    /// `STATE_DIRECTORY = "..."` lines are read instead.
    static func pidFile(in configFile: URL) -> String {
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

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
