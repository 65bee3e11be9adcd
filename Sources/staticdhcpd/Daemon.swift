import DaemonLogging
import Dispatch
import Foundation
import Generations
import Glibc
import Logging
import Scripting
import Synchronization

/// The daemon's life: load conf.lua, detach if asked, bind, serve, reload on SIGHUP, stop on
/// SIGTERM. Start-up: conf.lua, detach, logging, then `Server.serve` (banner, pid file, signals,
/// DHCP sockets, database and store, dashboard, `init()`, the first generation, receiving, UID/GID
/// dropped, ticks); anything failing before "now serving" is reported and ends the process with
/// status 1.
final class Daemon: Sendable {
    struct Options: Sendable {
        var configPath: String?
        var debug: Bool
        var verbose: Bool
    }

    let options: Options

    init(options: Options) {
        self.options = options
    }

    func run() -> Int32 {
        let configFile: URL
        do {
            configFile = try ScriptRuntime.locateConfig(
                explicit: options.configPath, environment: ProcessInfo.processInfo.environment,
                cwd: FileManager.default.currentDirectoryPath
            )
        } catch {
            printError("staticdhcpd: \(error.description)")
            return 1
        }
        // Messages conf.lua logs while it loads wait here until logging is set up.
        let early = DeferredScriptLog()
        let runtime: ScriptRuntime
        do {
            runtime = try ScriptRuntime(configFile: configFile, log: early)
        } catch {
            printError("staticdhcpd: \(configFile.path): configuration rejected:\n\(error.description)")
            return 1
        }
        var settings = runtime.settings.resolvingPaths(relativeTo: configFile)
        if options.debug { settings.debug = true }
        let console = options.verbose || !settings.daemon
        if !console {
            if let failure = Daemonizer.detach() {
                printError("staticdhcpd: \(failure)")
                return 1
            }
        }
        let hub = LogHub(configuration: settings.logConfiguration(debugFlag: options.debug, console: console))
        LoggingSystem.bootstrap { label in HubLogHandler(label: label, hub: hub) }
        let conf = Logger(label: "conf")
        early.attach(ClosureScriptLog { level, _, message in conf.log(level: level.swiftLogLevel, "\(message)") })

        let mailWait = (settings.emailSettings?.timeout ?? 0) + 1
        let finished = DispatchSemaphore(value: 0)
        let status = Mutex<Int32>(0)
        let server = Server(configFile: configFile, options: options, hub: hub)
        Task {
            let code = await server.serve(firstRuntime: runtime, settings: settings)
            status.withLock { $0 = code }
            finished.signal()
        }
        finished.wait()
        // A CRITICAL record logged on the way out (a start-up failure) still gets mailed.
        hub.flushMail(seconds: mailWait)
        hub.flush()
        return status.withLock { $0 }
    }
}

/// `DAEMON = true`: the classic double fork, done before any thread exists.
enum Daemonizer {
    /// Returns an error text, or nil in the detached grandchild.
    static func detach() -> String? {
        switch fork() {
        case -1: return "cannot fork: \(String(cString: strerror(errno)))"
        case 0: break
        default: exit(0)
        }
        if setsid() == -1 { return "setsid failed: \(String(cString: strerror(errno)))" }
        switch fork() {
        case -1: return "cannot fork: \(String(cString: strerror(errno)))"
        case 0: break
        default: exit(0)
        }
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0)
            dup2(null, 1)
            dup2(null, 2)
            if null > 2 { close(null) }
        }
        return nil
    }
}
