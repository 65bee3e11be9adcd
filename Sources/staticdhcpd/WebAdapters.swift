import DaemonLogging
import Databases
import DHCPWire
import Engine
import Foundation
import Generations
import Logging
import Scripting
import Web

/// The dashboard's view of the running daemon. Everything but `reload()` reads locked snapshots
/// (`Server.webSnapshot`, `Telemetry`, the log FIFO) without awaiting any actor, so pages and API
/// answers never queue behind packets.
struct DaemonDashboardSource: DashboardSource {
    let server: Server

    func status() async -> StatusSnapshot {
        let snapshot = server.webSnapshot.withLock { ($0.generation, $0.sockets, $0.lastReload, $0.peers) }
        let (generation, sockets, lastReload, peers) = snapshot
        let me = Server.peerKey(host: Server.hostName, serverIP: generation?.settings.dhcpServerIP.description ?? "")
        return StatusSnapshot(
            startTime: server.startedAt, configGeneration: generation?.number ?? 0,
            lastReload: lastReload, sockets: sockets,
            databaseEngine: generation?.database.engineName ?? "none", cacheHitRate: nil,
            store: generation.map { $0.store.location },
            peers: peers.map { peer in
                StatusSnapshot.Peer(name: peer.name, host: peer.host, serverIP: peer.serverIP, version: peer.version,
                                    configGeneration: peer.generation, lastHeard: Date(timeIntervalSince1970: peer.heartbeat),
                                    isSelf: Server.peerKey(host: peer.host, serverIP: peer.serverIP) == me)
            }
        )
    }

    func activity() async -> ActivitySeries { server.telemetry.activity() }

    func recentClients() async -> [RecentClient] { server.telemetry.recentClients() }

    func logRecords() async -> [LogRecord] { server.hub.recentRecords() }

    func metrics() async -> MetricsSnapshot {
        let (counters, network, reloads, reloadFailures) = server.webSnapshot.withLock { ($0.counters, $0.network, $0.reloads, $0.reloadFailures) }
        // Counted by the cache since it was opened (a reload that changes the database opens another).
        let cacheHits = (server.webSnapshot.withLock { $0.generation?.database } as? CachingDatabase)?.cacheHits ?? 0
        var scripted: [ScriptedMetric] = []
        if let (generation, engine) = server.webSnapshot.withLock({ snapshot in snapshot.generation.flatMap { g in snapshot.engine.map { (g, $0) } } }) {
            let runtime = generation.runtime
            scripted = (try? await finish(on: engine) { () throws(ScriptError) in try runtime.startMetrics() }) ?? []
        }
        var snapshot = MetricsSnapshot(counters: counters, cacheHits: cacheHits, reloads: reloads, reloadFailures: reloadFailures,
                                       scripted: scripted)
        snapshot.staleRequests = network?.stale ?? 0
        return snapshot
    }

    func reload() async -> ReloadOutcome {
        await server.reload(trigger: "web")
    }
}

/// conf.lua's web registrations, run on the engine's executor like every other script call. The
/// registrations, runtime and engine come from the snapshot, so only the callbacks themselves wait
/// for the engine.
struct LuaWebHost: ScriptWebHost {
    let server: Server

    private func runtime() throws -> (ScriptRuntime, DHCPEngine, WebRegistrations) {
        let (generation, engine, registrations) = server.webSnapshot.withLock { ($0.generation, $0.engine, $0.registrations) }
        guard let generation, let engine, let registrations else { throw DaemonError("the server is not serving yet") }
        return (generation.runtime, engine, registrations)
    }

    func registrations() async -> WebRegistrations {
        server.webSnapshot.withLock({ $0.registrations }) ?? WebRegistrations()
    }

    /// Runs callback `id` of `runtime` (ids are per runtime: take both from one snapshot read).
    private func call(id: Int, _ request: WebCallbackRequest, runtime: ScriptRuntime, engine: DHCPEngine) async throws -> WebCallResult {
        try await finish(on: engine) { () throws(ScriptError) in try runtime.startWebCallback(id: id, request: request) }
    }

    private func fragment(_ result: WebCallResult) -> String? {
        switch result {
        case .none: nil
        case .fragment(let text): text
        case .content(_, let data, _): String(decoding: data, as: UTF8.self)
        }
    }

    func callHeader(id: Int, request: WebCallbackRequest) async throws -> String? {
        let (runtime, engine, _) = try runtime()
        return fragment(try await call(id: id, request, runtime: runtime, engine: engine))
    }

    func callDashboardElement(id: Int, request: WebCallbackRequest) async throws -> String? {
        let (runtime, engine, _) = try runtime()
        return fragment(try await call(id: id, request, runtime: runtime, engine: engine))
    }

    func callMethod(path: String, request: WebCallbackRequest) async throws -> WebMethodOutput {
        let (runtime, engine, registered) = try runtime()
        guard let method = registered.methods.first(where: { $0.path == path }) else {
            throw DaemonError("no web method at \(path)")
        }
        let result = try await call(id: method.id, request, runtime: runtime, engine: engine)
        if method.displayMode == .raw {
            switch result {
            case .content(let mimeType, let data, let headers): return .raw(mimetype: mimeType, body: data, headers: headers)
            case .fragment(let text): return .raw(mimetype: "text/plain; charset=utf-8", body: Array(text.utf8), headers: [:])
            case .none: return .raw(mimetype: "text/plain; charset=utf-8", body: [], headers: [:])
            }
        }
        return .fragment(fragment(result))
    }
}

/// Reservation editing in the browser, on the same code as `staticdhcpd db`: Web has parsed and
/// checked what it passes, so this only delegates, showing the tool's refusals to the operator.
struct SQLiteReservationStore: ReservationStore {
    let reservations: Reservations

    private func userFacing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw ReservationInputError(error.description)
        }
    }

    func searchReservations(matching query: String, limit: Int) async throws -> [Reservation] {
        try userFacing { try reservations.search(query, limit: limit) }
    }

    func reservation(mac: MAC) async throws -> Reservation? {
        try userFacing { try reservations.reservation(mac: mac) }
    }

    func addReservation(_ reservation: Reservation) async throws {
        try userFacing { try reservations.add(reservation) }
    }

    /// One transaction: a refused edit leaves the old reservation as it was.
    func updateReservation(mac: MAC, with reservation: Reservation) async throws {
        try userFacing { try reservations.replace(mac: mac, with: reservation) }
    }

    func removeReservation(mac: MAC) async throws -> Bool {
        try userFacing { try reservations.removeIfPresent(mac: mac) }
    }

    func listSubnets() async throws -> [SubnetRecord] {
        try userFacing { try reservations.listSubnets() }
    }

    func addSubnet(_ subnet: SubnetRecord) async throws {
        try userFacing { try reservations.addSubnet(subnet) }
    }

    func updateSubnet(_ subnet: SubnetRecord) async throws {
        try userFacing { try reservations.updateSubnet(subnet) }
    }

    func removeSubnet(subnet: String, serial: Int) async throws -> Bool {
        try userFacing { try reservations.removeSubnetIfPresent(subnet, serial: serial) }
    }
}

extension Settings {
    var webConfiguration: WebConfiguration {
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
        if let webContentSecurityPolicy { configuration.contentSecurityPolicy = webContentSecurityPolicy }
        configuration.reinitialiseConfirm = webReinitialiseConfirm
        configuration.reinitialiseSecure = webReinitialiseSecure
        configuration.reinitialiseHidden = webReinitialiseHidden
        configuration.reinitialiseEnabled = webReinitialiseEnabled
        configuration.dashboardOrderLog = webDashboardOrderLog
        configuration.headerTitle = webHeaderTitle
        configuration.headerCSS = webHeaderCSS
        configuration.headerFavicon = webHeaderFavicon
        configuration.version = StaticDHCPDCommand.version
        return configuration
    }
}

/// Runs a script call on the engine's executor to its end: one that waits on the shared store
/// waits here (off the engine's thread) and goes on there when the answer is back.
func finish<T: Sendable>(on engine: DHCPEngine, _ start: @escaping @Sendable () throws(ScriptError) -> HookRun<T>) async throws -> T {
    var run = try await engine.perform { () throws -> HookRun<T> in
        do { return try start() } catch { throw DaemonError("\(error)") }
    }
    while case .suspended(let call) = run {
        await call.wait()
        run = try await engine.perform { () throws -> HookRun<T> in
            do { return try call.resume() } catch { throw DaemonError("\(error)") }
        }
    }
    guard case .done(let value) = run else { throw DaemonError("a script call did not finish") }
    return value
}
