import Databases
import Logging
import Scripting
import Web

/// The web dashboard's lifecycle: started with the daemon, then made to follow each reload of
/// conf.lua. Settings that only shape pages and access (titles, credentials, secure flags, the
/// reservation store) apply to the running server; a new WEB_IP, WEB_PORT or WEB_ENABLED starts
/// another server in its place.
public actor Dashboard {
    private var web: WebServer?
    private var task: Task<Void, Never>?
    private let version: String
    private let makeServer: @Sendable (WebConfiguration, (any ReservationStore)?) -> WebServer
    private let logger = Logger(label: "main")

    /// `makeServer` builds a server over the daemon's seams for the given settings; `version` is
    /// the daemon's, for the pages' footer.
    public init(version: String, makeServer: @escaping @Sendable (WebConfiguration, (any ReservationStore)?) -> WebServer) {
        self.version = version
        self.makeServer = makeServer
    }

    /// Brings the dashboard in line with `settings`; returns a warning when it could not be started
    /// there (DHCP keeps serving either way).
    public func apply(_ settings: Settings) async -> String? {
        guard settings.webEnabled else {
            if task != nil {
                await stop()
                logger.warning("Web dashboard stopped (WEB_ENABLED is false)")
            }
            return nil
        }
        let configuration = settings.webConfiguration(version: version)
        // Once per start and per reload, whether or not the listener changes.
        if let warning = configuration.exposureWarning { logger.warning("\(warning)") }
        let store = Self.reservationStore(settings)
        if let web, web.sameListener(as: configuration) {
            web.reconfigure(configuration, reservations: store)
            return nil
        }
        await stop()
        return await start(configuration, store: store)
    }

    /// Stops the dashboard: the listening socket closes at once, requests in progress finish.
    ///
    /// Waits for that at most 2 s: a reload asked for through the dashboard (the reinitialise
    /// button, `/api/reload`) is itself one of the requests in progress, and it cannot finish
    /// before the reload it waits for.
    public func stop() async {
        guard let task else { return }
        task.cancel()
        // Unstructured waiters: a task group would wait for its slower child as well.
        let (ended, signal) = AsyncStream<Void>.makeStream()
        let waiters = [
            Task { await task.value; signal.yield() },
            Task { try? await Task.sleep(for: .seconds(2)); signal.yield() },
        ]
        for await _ in ended { break }
        for waiter in waiters { waiter.cancel() }
        self.task = nil
        web = nil
    }

    /// Starts a server and waits until it listens or fails to (at most 5 s).
    private func start(_ configuration: WebConfiguration, store: (any ReservationStore)?) async -> String? {
        let web = makeServer(configuration, store)
        let address = "\(configuration.ip):\(configuration.port)"
        let (outcomes, report) = AsyncStream<String?>.makeStream()
        let logger = logger
        // Detached: a reload asked for through the old dashboard runs inside one of its request
        // tasks, whose task-locals include the old server's graceful-shutdown manager (swift-service-
        // lifecycle); a task inheriting them would see that shutdown and stop the new server at once.
        task = Task.detached {
            do {
                try await web.run(onServerRunning: { _ in report.yield(nil) })
            } catch is CancellationError {
            } catch {
                logger.critical("The web dashboard on \(address) stopped: \(error)")
                report.yield("the web dashboard cannot serve on \(address): \(error)")
            }
            report.finish()
        }
        self.web = web
        // The first of: listening, failed, or still not listening after 5 s (left running).
        let failure = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                for await outcome in outcomes { return outcome }
                return "the web dashboard on \(address) stopped before it listened"
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let failure {
            task = nil
            self.web = nil
            return failure
        }
        logger.info("Web dashboard on http://\(address)/")
        return nil
    }

    /// The reservation editor's store: the SQLite file DHCP serves from, when that is the engine.
    static func reservationStore(_ settings: Settings) -> (any ReservationStore)? {
        guard settings.databaseEngine == .named("SQLite"), let file = settings.sqliteFile,
              let reservations = try? Reservations(path: file) else { return nil }
        return SQLiteReservationStore(reservations: reservations)
    }
}

/// conf.lua's WEB_* settings as Web's own configuration: Web does not know the scripting layer's
/// types. `version` is the daemon's, shown in the page footer.
extension Settings {
    func webConfiguration(version: String) -> WebConfiguration {
        var configuration = WebConfiguration()
        configuration.systemName = systemName
        configuration.debug = debug
        configuration.enabled = webEnabled
        configuration.ip = webIP.description
        configuration.port = webPort
        configuration.logHistory = webLogHistory
        configuration.logSeverity = Severity.parse(webLogSeverity) ?? .info
        configuration.logMaxHeight = webLogMaxHeight
        configuration.digestUsername = webDigestUsername
        configuration.digestPassword = webDigestPassword
        configuration.dashboardSecure = webDashboardSecure
        configuration.reinitialiseConfirm = webReinitialiseConfirm
        configuration.reinitialiseSecure = webReinitialiseSecure
        configuration.reinitialiseHidden = webReinitialiseHidden
        configuration.reinitialiseEnabled = webReinitialiseEnabled
        configuration.dashboardOrderLog = webDashboardOrderLog
        configuration.headerTitle = webHeaderTitle
        configuration.headerCSS = webHeaderCSS
        configuration.headerFavicon = webHeaderFavicon
        configuration.version = version
        if let webContentSecurityPolicy { configuration.contentSecurityPolicy = webContentSecurityPolicy }
        return configuration
    }
}
