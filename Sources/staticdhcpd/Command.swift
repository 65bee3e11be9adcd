import ArgumentParser
import Foundation
import Scripting

/// `staticdhcpd [--config PATH] [--debug] [--verbose] [--check-config]`, plus `reload`, `db`,
/// `leases` and `explain`.
@main
struct StaticDHCPDCommand: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "staticdhcpd",
        abstract: "A static, script-driven DHCPv4 server scripted in Lua.",
        discussion: """
        Serves DHCP from a database of MAC -> definition records; conf.lua sets the settings and \
        may script every reply. Without --config, conf.lua is searched in $STATICDHCPD_CONF_PATH, \
        ./conf/conf.lua and /etc/staticDHCPd/conf.lua.
        """,
        version: "staticdhcpd \(version) (Lua 5.4)",
        subcommands: [ReloadCommand.self, DatabaseCommand.self, LeasesCommand.self, ExplainCommand.self]
    )

    @OptionGroup var config: ConfigOption

    @Flag(help: "Log everything at DEBUG, to the console and the log file.")
    var debug = false

    @Flag(help: "Stay in the foreground and log to the console (overrides DAEMON).")
    var verbose = false

    @Flag(name: .customLong("check-config"), help: "Run conf.lua's top level, validate every setting and hook, print OK or every error, and exit (binds nothing, opens no database, does not call init()).")
    var checkConfig = false

    /// `--check-config PATH` is accepted as `--check-config --config PATH`, as `nginx -t` users expect;
    /// a positional argument of its own would swallow the subcommand names.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let index = arguments.firstIndex(of: "--check-config"), index + 1 < arguments.count,
           !arguments[index + 1].hasPrefix("-") {
            arguments.insert("--config", at: index + 1)
        }
        if arguments.first == "explain" { ExplainCommand.main(arguments) }
        main(arguments)
    }

    func run() throws {
        if checkConfig {
            throw ExitCode(ConfigCheck.run(explicit: config.config))
        }
        let daemon = Daemon(options: .init(configPath: config.config, debug: debug, verbose: verbose))
        throw ExitCode(daemon.run())
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "conf.lua, or the directory that holds it.")
    var config: String?

    func locate() throws -> URL {
        do {
            return try ScriptRuntime.locateConfig(
                explicit: config, environment: ProcessInfo.processInfo.environment,
                cwd: FileManager.default.currentDirectoryPath
            )
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// `--check-config`, like `nginx -t`.
enum ConfigCheck {
    static func run(explicit: String?) -> Int32 {
        let file: URL
        do {
            file = try ScriptRuntime.locateConfig(
                explicit: explicit, environment: ProcessInfo.processInfo.environment,
                cwd: FileManager.default.currentDirectoryPath
            )
        } catch {
            printError("staticdhcpd: \(error.description)")
            return 1
        }
        let report = ScriptRuntime.checkConfig(configFile: file)
        for warning in report.warnings { printError("warning: \(warning)") }
        if report.isValid {
            print("\(file.path): OK")
            return 0
        }
        printError("\(file.path): \(report.errors.count) error\(report.errors.count == 1 ? "" : "s")")
        for error in report.errors { printError("error: \(error)") }
        return 1
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
