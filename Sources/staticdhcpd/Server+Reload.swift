import DaemonControl
import Databases
import DHCPNetwork
import Engine
import Foundation
import Generations
import Glibc
import Logging
import Scripting

extension Server {
    /// Loads conf.lua into a fresh Lua state, validates it, runs its `init()`, and only then lets
    /// it take over, at a packet boundary. Any failure leaves the running generation serving.
    func reload(trigger: String) async -> ReloadOutcome {
        let started = ContinuousClock.now
        guard let engine = engineForReload, let previous = generationForReload else {
            return ReloadOutcome(time: Date(), succeeded: false, durationSeconds: 0, error: "the server is not serving yet",
                                 generation: 0, trigger: trigger)
        }
        logger.warning("System reinitialisation commencing (\(trigger))...")
        var warnings: [String] = []
        let outcome: ReloadOutcome
        do {
            let runtime: ScriptRuntime
            do {
                runtime = try ScriptRuntime(configFile: configFile, log: SwiftLogScriptLog(Logger(label: "conf")))
            } catch {
                throw DaemonError("\(configFile.path): \(error.description)")
            }
            var settings = runtime.settings.resolvingPaths(relativeTo: configFile)
            if options.debug { settings.debug = true }
            if settings.uid != previous.settings.uid || settings.gid != previous.settings.gid {
                warnings.append("UID/GID changed; the daemon keeps running as UID \(getuid()), GID \(getgid()) until it is restarted")
            }
            let database = try await makeDatabase(runtime: runtime, settings: settings, engine: engine, previous: previous)
            let store = try await openStore(settings: settings, previous: previous)
            let timeout = settings.databaseTimeout
            do {
                try await engine.perform {
                    runtime.attachStore(store, timeout: timeout)
                    try runtime.callInit()
                }
            } catch {
                throw DaemonError("init() failed: \(error)")
            }
            // The old generation's reinit handlers, then the database, as the original ordered them. A failing
            // handler is reported; unlike the original it does not stop the server.
            let handlerErrors = await engine.perform { previous.runtime.runReinitHandlers() }
            for error in handlerErrors {
                warnings.append("reinitialisation handler failed: \(error.description)")
            }
            do {
                try await database.reinitialise()
            } catch {
                throw DaemonError("the \(database.engineName) database could not be reinitialised: \(error)")
            }
            // Last, so that a reload rejected earlier never took a datagram away from the old
            // sockets: from its bind on, the kernel delivers the port's unicast to the new socket.
            let rebound = try bindChangedSockets(settings, previous: previous.settings)
            await install(LoadedGeneration(number: previous.number + 1, runtime: runtime, settings: settings, database: database, store: store),
                          rebound: rebound)
            if let rebound {
                logger.warning("Reload: DHCP sockets rebound; now serving on \(settings.dhcpServerIP):\(rebound.serverPort)\(rebound.proxyPort.map { " and proxy port \($0)" } ?? "")")
            }
            // Then the dashboard follows (after DHCP, which must not wait on it: moving the
            // dashboard waits for the old one to let go). One that cannot serve where the new
            // settings say is a warning, not a reason to keep the old DHCP generation.
            if settings.webEnabled || previous.settings.webEnabled, let problem = await makeDashboard().apply(settings) {
                warnings.append(problem)
            }
            outcome = ReloadOutcome(time: Date(), succeeded: true, durationSeconds: (ContinuousClock.now - started).seconds,
                                    generation: previous.number + 1, trigger: trigger, warnings: warnings)
            for warning in warnings { logger.warning("Reload: \(warning)") }
            logger.warning("System reinitialisation complete: generation \(outcome.generation) is live (\(String(format: "%.4f", outcome.durationSeconds)) s)")
        } catch {
            outcome = ReloadOutcome(time: Date(), succeeded: false, durationSeconds: (ContinuousClock.now - started).seconds,
                                    error: "\(error)", generation: previous.number, trigger: trigger, warnings: warnings)
            logger.error("Reload rejected; generation \(previous.number) keeps serving: \(error)")
        }
        recordReload(outcome)
        return outcome
    }

    /// New sockets when the reload changes the DHCP address, ports, response interface or relay
    /// policy; nil when the running ones serve as they are. Binding happens while the old sockets
    /// are still open (both ask for SO_REUSEADDR), so a port that stays the same is never free.
    private func bindChangedSockets(_ settings: Settings, previous: Settings) throws -> DHCPSockets? {
        guard !settings.sameSockets(as: previous) else { return nil }
        do {
            return try DHCPSockets(config: settings.networkConfiguration(), logger: Logger(label: "network"))
        } catch {
            var reason = "the new DHCP socket settings cannot be applied: \(error)"
            if geteuid() != 0 {
                reason += " (the daemon runs as UID \(getuid()) since start-up; binding port \(settings.dhcpServerPort) or a layer-2 responder needs root or CAP_NET_BIND_SERVICE and CAP_NET_RAW, so restart it to apply these settings)"
            }
            throw DaemonError(reason)
        }
    }

    private func recordReload(_ outcome: ReloadOutcome) {
        noteReload(outcome)
        if let settings = generationForReload?.settings {
            ReloadStatusFile.write(outcome, pid: getpid(), sequence: reloadCount,
                                   pidFile: movePIDFile(to: settings.controlPIDFile(configFile: configFile)))
        }
    }
}
