import ArgumentParser
import Engine
import Foundation
import Generations
import Logging

/// `staticdhcpd explain --mac MAC [--method M] [--relay IP] [--requested-ip IP] [--json]`: what
/// the daemon would do with one request under conf.lua as it is on disk now (README, "Checking
/// a change before SIGHUP").
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Run one made-up request through conf.lua and the database, send nothing, and show every decision.",
        discussion: """
        Loads conf.lua, calls init(), opens the database and the scripts' store as the daemon \
        does, and runs the request through the same chain: source policy, filterPacket, the \
        database, handleUnknownMAC, filterRetrievedDefinitions, loadDHCPPacket. Binds no socket. \
        Hooks run for real: what they write to the store is written. Exit status: 0 a reply \
        would be sent, 1 the request would be dropped or ignored, 2 a usage or configuration error.
        """
    )

    @OptionGroup var config: ConfigOption
    @Option(help: "The client's MAC address.") var mac: String?
    @Option(help: "\(ExplainRequest.methods.map(\.name).joined(separator: "|")) (default DISCOVER).") var method: String?
    @Option(help: "Relay it through this relay agent (giaddr).") var relay: String?
    @Option(name: .customLong("requested-ip"), help: "Option 50 (DISCOVER, SELECTING, INIT-REBOOT, DECLINE) or the client's ciaddr (RENEW, REBIND, INFORM, RELEASE).")
    var requestedIP: String?
    @Flag(help: "One JSON object instead of text.") var json = false

    func run() throws {
        let request: ExplainRequest
        do {
            request = try ExplainRequest(parsing: mac ?? "", method: method, relay: relay, requestedIP: requestedIP)
        } catch {
            throw ValidationError(error.description)
        }
        let configFile = try config.locate()
        // The report carries the records of the run (`ExplainLogCapture`); a logger made without
        // it (a library's own) only reaches stderr from a warning up, away from the report.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let report: ExplainReport
        do {
            report = try LeasesCommand.blocking { try await ExplainRun.run(request, configFile: configFile) }
        } catch {
            printError("staticdhcpd explain: \(error)")
            throw ExitCode(2)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        throw ExitCode(report.exitStatus)
    }

    /// Parses and runs `arguments` (which start with `explain`), exiting 2 on a usage error
    /// rather than ArgumentParser's 64, since 1 already means "no reply".
    static func main(_ arguments: [String]) -> Never {
        do {
            var command = try StaticDHCPDCommand.parseAsRoot(arguments)
            try command.run()
            StaticDHCPDCommand.exit()
        } catch {
            if error is ExitCode || StaticDHCPDCommand.exitCode(for: error) == .success {
                StaticDHCPDCommand.exit(withError: error)
            }
            // A refusal of run() itself (a bad MAC, no conf.lua) comes with explain's own usage.
            printError(error is ValidationError ? ExplainCommand.fullMessage(for: error) : StaticDHCPDCommand.fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}
