import DaemonControl
import DaemonLogging
import DaemonWeb
import Databases
import DHCPNetwork
import DHCPService
import Dispatch
import Engine
import Foundation
import Generations
import Glibc
import Logging
import Scripting
import ScriptedHooks
import Web

/// The running server: sockets, engine, ticks, signals, reloads and shutdown.
actor Server {
    let configFile: URL
    let options: Daemon.Options
    let hub: LogHub
    let logger = Logger(label: "main")
    let telemetry = Telemetry()
    let startedAt = Date()

    /// The engine, its thread and the sockets it reads.
    private var service: DHCPService?
    private var engine: DHCPEngine? { service?.engine }
    private var current: LoadedGeneration?
    private var signalSources: [any DispatchSourceSignal] = []
    private var dashboard: Dashboard?
    private var shuttingDown = false
    private var stopped: CheckedContinuation<Int32, Never>?
    /// Where the pid was written (see `Settings.controlPIDFile`).
    private var pidFile: String?
    let webSnapshot = LockedWebSnapshot()
    private(set) var lastReload: ReloadOutcome?
    private(set) var reloadCount = 0
    private(set) var reloadFailures = 0

    init(configFile: URL, options: Daemon.Options, hub: LogHub) {
        self.configFile = configFile
        self.options = options
        self.hub = hub
    }

    /// Serves until SIGTERM; returns the exit status.
    func serve(firstRuntime runtime: ScriptRuntime, settings: Settings) async -> Int32 {
        logger.warning("----------------------------------------")
        logger.warning("staticdhcpd \(StaticDHCPDCommand.version) starting (pid \(getpid())) with \(configFile.path)")
        logger.warning("----------------------------------------")
        let pidPath = settings.controlPIDFile(configFile: configFile)
        PIDFile.write(pidPath, logger: logger)
        pidFile = pidPath
        installSignalHandlers()
        do {
            let sockets = try DHCPSockets(config: settings.networkConfiguration(), logger: Logger(label: "network"))
            let service = DHCPService(
                sockets: sockets,
                generation: Generation(number: 0, configuration: settings.engineConfiguration, hooks: NoHooks(), database: NullDatabase()),
                logger: Logger(label: "dhcp")
            )
            self.service = service
            let engine = service.engine
            let database = try await makeDatabase(runtime: runtime, settings: settings, engine: engine, previous: nil)
            let store = try await openStore(settings: settings, previous: nil)
            current = LoadedGeneration(number: 0, runtime: runtime, settings: settings, database: database, store: store)
            if settings.webEnabled {
                // A dashboard that cannot bind is logged; DHCP keeps serving.
                _ = await makeDashboard().apply(settings)
            }
            logger.info("Initialising custom code...")
            let timeout = settings.databaseTimeout
            try await engine.perform {
                runtime.attachStore(store, timeout: timeout)
                try runtime.callInit()
            }
            let generation = LoadedGeneration(number: 1, runtime: runtime, settings: settings, database: database, store: store)
            await install(generation)
            // The engine's thread reads the sockets itself from now on (DHCPService).
            service.start()
            try Privileges.drop(uid: settings.uid, gid: settings.gid, logger: logger)
            startTicks(engine)
            startHeartbeat()
            logger.warning("All subsystems initialised; now serving on \(settings.dhcpServerIP):\(settings.dhcpServerPort)\(settings.proxyPort.map { " and proxy port \($0)" } ?? "") with the \(database.engineName) database")
        } catch {
            logger.critical("Start-up failed: \(error)")
            service?.sockets.shutdown() // nothing was served: nothing queued is answered
            removePIDFile()
            return 1
        }
        return await withCheckedContinuation { continuation in
            stopped = continuation
        }
    }

    // MARK: pieces

    func makeDatabase(runtime: ScriptRuntime, settings: Settings, engine: DHCPEngine, previous: LoadedGeneration?) async throws -> any Database {
        try await GenerationParts.makeDatabase(runtime: runtime, settings: settings, engine: engine, previous: previous, logger: logger)
    }

    func openStore(settings: Settings, previous: LoadedGeneration?) async throws -> ScriptStore {
        try await GenerationParts.openStore(settings: settings, configFile: configFile, previous: previous, logger: logger)
    }

    /// Makes `generation` the one every new request runs on. With `rebound` (a reload changed the
    /// socket settings and bound new ones), the sockets change over in the same engine job
    /// (`DHCPService.changeOver`): the datagrams already queued on the old sockets are answered by
    /// the old generation, then the engine reads only the new sockets and replies through them.
    func install(_ generation: LoadedGeneration, rebound: DHCPSockets? = nil) async {
        guard let service else { return }
        // Statistics telemetry only feeds the dashboard: recorded while the settings ask for one.
        let telemetry = telemetry
        let observe: (@Sendable (Statistics) -> Void)? = generation.settings.webEnabled ? { @Sendable statistics in telemetry.record(statistics) } : nil
        let hooks = LuaHooks(runtime: generation.runtime, observeStatistics: observe, logTap: hub.tap)
        let next = Generation(
            number: generation.number, configuration: generation.settings.engineConfiguration,
            hooks: hooks, database: generation.database
        )
        if let rebound {
            await service.changeOver(to: rebound, installing: next)
        } else {
            await service.install(next)
        }
        current = generation
        await refreshWebSnapshot(service.engine)
        hub.reconfigure(generation.settings.logConfiguration(debugFlag: options.debug, console: hubConsole))
    }

    private var hubConsole: Bool { options.verbose || !(current?.settings.daemon ?? true) }

    /// The dashboard, over this server's seams (DaemonWeb's adapters, reading `webSnapshot`);
    /// made once, then it follows reloads.
    func makeDashboard() -> Dashboard {
        if let dashboard { return dashboard }
        let (snapshot, telemetry, hub, startedAt, configFile) = (webSnapshot, telemetry, hub, startedAt, configFile)
        let made = Dashboard(version: StaticDHCPDCommand.version) { [unowned self] configuration, reservations in
            WebServer(
                config: configuration,
                source: DaemonDashboardSource(
                    snapshot: snapshot, telemetry: telemetry, hub: hub, startedAt: startedAt, host: Server.hostName,
                    reload: { [unowned self] in await self.reload(trigger: "web") }),
                reservations: reservations, scripts: LuaWebHost(snapshot: snapshot), leases: DaemonLeaseSource(snapshot: snapshot),
                explainer: DaemonExplainSource(configFile: configFile), logger: Logger(label: "web"))
        }
        dashboard = made
        return made
    }

    /// The 1 Hz tick: a wake-up, not a precise clock.
    private func startTicks(_ engine: DHCPEngine) {
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await engine.tick()
                await refreshWebSnapshot(engine)
            }
        }
    }

    /// With a shared store, this daemon records itself there every 5 s and reads its peers'
    /// records for the dashboard (`ClusterPeers`). A store that does not answer leaves the last
    /// list in place: the dashboard then shows how long ago each peer was heard from.
    private func startHeartbeat() {
        Task {
            while !Task.isCancelled {
                await heartbeat()
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }

    private func heartbeat() async {
        guard let generation = current, case .remote(let store) = generation.store else {
            webSnapshot.update { $0.peers = [] }
            return
        }
        let record = PeerRecord(
            name: generation.settings.systemName, host: Self.hostName, serverIP: generation.settings.dhcpServerIP.description,
            version: StaticDHCPDCommand.version, generation: generation.number, pid: getpid(),
            heartbeat: Date().timeIntervalSince1970)
        do {
            let peers = try await ClusterPeers.heartbeat(record, store: store)
            webSnapshot.update { $0.peers = peers }
        } catch {
            logger.debug("Heartbeat to the shared store failed: \(error)")
        }
    }

    /// This daemon's host as its peers and its own dashboard know it.
    static let hostName = ProcessInfo.processInfo.hostName

    /// What the dashboard reads about the engine, refreshed once per tick and after each reload, so
    /// a page never waits in the engine's queue behind packets (a snapshot at most a second old).
    func refreshWebSnapshot(_ engine: DHCPEngine) async {
        guard let generation = current else { return }
        let counters = await engine.counters
        let registrations = await engine.perform { generation.runtime.webRegistrations() }
        let sockets = WebSnapshot.describe(service?.sockets, settings: generation.settings)
        let network = service?.sockets.counters
        webSnapshot.update {
            $0.publish(generation: generation, engine: engine, counters: counters, registrations: registrations,
                       sockets: sockets, network: network)
        }
    }

    private func installSignalHandlers() {
        signalSources = Server.makeSignalSources(for: self)
    }

    /// Dispatch calls these handlers on its own queue, so they must not be isolated to the actor.
    private nonisolated static func makeSignalSources(for server: Server) -> [any DispatchSourceSignal] {
        [SIGHUP, SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { @Sendable in
                Task {
                    if signalNumber == SIGHUP {
                        _ = await server.reload(trigger: "SIGHUP")
                    } else {
                        await server.shutdown(signal: signalNumber)
                    }
                }
            }
            source.resume()
            return source
        }
    }

    // MARK: shutdown

    /// First SIGTERM: stop taking packets, let those in flight finish (a few seconds at most),
    /// remove the pid file, exit 0. A second one exits at once.
    func shutdown(signal signalNumber: Int32) async {
        if shuttingDown {
            logger.warning("Second stop signal; exiting now without waiting for requests in flight")
            removePIDFile()
            hub.flush()
            exit(1)
        }
        shuttingDown = true
        logger.warning("System shutdown beginning (signal \(signalNumber))...")
        // Datagrams that arrived before the signal but still wait in the sockets' buffers (the
        // engine was busy) are requests in flight too: answered before the sockets close. Bounded
        // by the buffers' size; a second signal exits at once.
        await service?.stop()
        await dashboard?.stop()
        let deadline = ContinuousClock.now + .seconds(4)
        let inFlight = { self.engine?.parked ?? 0 }
        while inFlight() > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = inFlight()
        if left > 0 { logger.warning("\(left) requests were still in flight at shutdown") }
        removePIDFile()
        logger.warning("System shutdown complete")
        stopped?.resume(returning: 0)
        stopped = nil
    }

    private func removePIDFile() {
        if let pidFile { PIDFile.remove(pidFile) }
    }

    /// Keeps the pid where the live generation's settings say (`controlPIDFile`): a reload that
    /// changes PID_FILE or STATE_DIRECTORY moves it. Returns the path.
    func movePIDFile(to path: String) -> String {
        if path != pidFile {
            PIDFile.write(path, logger: logger)
            removePIDFile()
            pidFile = path
        }
        return path
    }

    func noteReload(_ outcome: ReloadOutcome) {
        lastReload = outcome
        reloadCount += 1
        if !outcome.succeeded { reloadFailures += 1 }
        let (count, failures) = (reloadCount, reloadFailures)
        webSnapshot.update {
            $0.lastReload = outcome
            $0.reloads = count
            $0.reloadFailures = failures
        }
    }

    // MARK: state for the reload

    var engineForReload: DHCPEngine? { engine }
    var generationForReload: LoadedGeneration? { current }
}

/// `UID`/`GID`: dropped after the sockets are bound. Raw replies keep working because the
/// packet socket is already open.
enum Privileges {
    static func drop(uid: Int?, gid: Int?, logger: Logger) throws {
        if let gid {
            guard setregid(gid_t(gid), gid_t(gid)) == 0 else {
                throw DaemonError("cannot switch to GID \(gid): \(String(cString: strerror(errno)))")
            }
        }
        if let uid {
            guard setreuid(uid_t(uid), uid_t(uid)) == 0 else {
                throw DaemonError("cannot switch to UID \(uid): \(String(cString: strerror(errno)))")
            }
        }
        if uid != nil || gid != nil {
            logger.info("Running as UID \(getuid()), GID \(getgid())")
        }
    }
}

struct DaemonError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
