import ArgumentParser
import DaemonControl
import Foundation
import Glibc

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
        let pidFile = pidFileOption ?? PIDFile.location(for: file)
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

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
