import ArgumentParser
import Foundation
import Glibc
import Scripting

/// `staticdhcpd reload`: finds the running daemon by conf.lua's PID_FILE, sends it SIGHUP,
/// waits for the outcome and reports it (exit 0 when the new conf.lua is live).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running daemon reload conf.lua, and report how it went."
    )

    @OptionGroup var config: ConfigOption

    @Option(help: "Seconds to wait for the outcome.")
    var timeout: Double = 30

    func run() throws {
        let file = try config.locate()
        let report = ScriptRuntime.checkConfig(configFile: file)
        guard let settings = report.settings, let pidFile = settings.pidFile else {
            throw ValidationError("\(file.path) sets no PID_FILE, so the running daemon cannot be found; set PID_FILE or send SIGHUP yourself")
        }
        guard let pid = PIDFile.read(pidFile), kill(pid, 0) == 0 else {
            throw ValidationError("no running daemon: \(pidFile) is missing or names no live process")
        }
        let before = ReloadStatusFile.read(pidFile: pidFile)?.finishedAt
        guard kill(pid, SIGHUP) == 0 else {
            throw ValidationError("cannot signal process \(pid): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let outcome = ReloadStatusFile.read(pidFile: pidFile), outcome.finishedAt != before {
                for warning in outcome.warnings { printError("warning: \(warning)") }
                if outcome.succeeded {
                    print("reloaded: generation \(outcome.generation) is live (\(String(format: "%.3f", outcome.seconds)) s)")
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
