import DaemonLogging
import Databases
import DHCPWire
import Engine
import Foundation
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

/// Reservation editing in the browser, on the same code as `staticdhcpd db`.
struct SQLiteReservationStore: ReservationStore {
    let reservations: Reservations

    private func userFacing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw ReservationInputError(error.description)
        }
    }

    private func web(_ reservation: Databases.Reservation) -> Web.Reservation {
        Web.Reservation(mac: reservation.mac.description, ip: reservation.ip.description, hostname: reservation.hostname,
                        subnet: reservation.subnet, serial: reservation.serial)
    }

    func searchReservations(matching query: String, limit: Int) async throws -> [Web.Reservation] {
        try userFacing { try reservations.search(query, limit: limit) }.map(web)
    }

    func reservation(mac: String) async throws -> Web.Reservation? {
        guard MAC(mac) != nil else { throw ReservationInputError("'\(mac)' is not a MAC address") }
        return try userFacing { try reservations.reservation(mac: mac) }.map(web)
    }

    func addReservation(_ reservation: Web.Reservation) async throws {
        try userFacing {
            try reservations.addMap(mac: reservation.mac, ip: reservation.ip, subnet: reservation.subnet,
                                    serial: reservation.serial, hostname: reservation.hostname)
        }
    }

    /// One transaction: a refused edit leaves the old reservation as it was.
    func updateReservation(mac: String, with reservation: Web.Reservation) async throws {
        try userFacing {
            try reservations.replaceMap(mac: mac, withMAC: reservation.mac, ip: reservation.ip, subnet: reservation.subnet,
                                        serial: reservation.serial, hostname: reservation.hostname)
        }
    }

    func removeReservation(mac: String) async throws -> Bool {
        guard try await reservation(mac: mac) != nil else { return false }
        try userFacing { try reservations.remove(mac: mac) }
        return true
    }

    func listSubnets() async throws -> [Web.SubnetRecord] {
        try userFacing { try reservations.listSubnets() }.map { record in
            Web.SubnetRecord(
                subnet: record.subnet, serial: record.serial, leaseTime: Int(record.leaseTime),
                gateway: record.gateways.isEmpty ? nil : record.gateways.map(\.description).joined(separator: ","),
                subnetMask: record.subnetMask?.description, broadcastAddress: record.broadcastAddress?.description,
                ntpServers: record.ntpServers.isEmpty ? nil : record.ntpServers.map(\.description).joined(separator: ","),
                domainNameServers: record.domainNameServers.isEmpty ? nil : record.domainNameServers.map(\.description).joined(separator: ","),
                domainName: record.domainName)
        }
    }

    func addSubnet(_ subnet: Web.SubnetRecord) async throws {
        let record = try databaseRecord(subnet)
        try userFacing { try reservations.addSubnet(record) }
    }

    func updateSubnet(_ subnet: Web.SubnetRecord) async throws {
        let record = try databaseRecord(subnet)
        try userFacing { try reservations.updateSubnet(record) }
    }

    func removeSubnet(subnet: String, serial: Int) async throws -> Bool {
        guard try userFacing({ try reservations.listSubnets() }).contains(where: { $0.subnet == subnet && $0.serial == serial }) else {
            return false
        }
        try userFacing { try reservations.removeSubnet(subnet, serial: serial) }
        return true
    }

    private func databaseRecord(_ subnet: Web.SubnetRecord) throws -> Databases.SubnetRecord {
        func addresses(_ text: String?, _ name: String) throws -> [IPv4] {
            do {
                return try IPv4.list(text ?? "")
            } catch {
                throw ReservationInputError("\(name): '\(error.piece)' is not an IPv4 address")
            }
        }
        func address(_ text: String?, _ name: String) throws -> IPv4? {
            guard let text, !text.isEmpty else { return nil }
            guard let ip = IPv4(text) else { throw ReservationInputError("\(name): '\(text)' is not an IPv4 address") }
            return ip
        }
        guard subnet.leaseTime > 0 else { throw ReservationInputError("lease time must be a positive number of seconds") }
        return Databases.SubnetRecord(
            subnet: subnet.subnet, serial: subnet.serial, leaseTime: UInt32(subnet.leaseTime),
            gateways: try addresses(subnet.gateway, "gateway"), subnetMask: try address(subnet.subnetMask, "subnet mask"),
            broadcastAddress: try address(subnet.broadcastAddress, "broadcast address"), domainName: subnet.domainName,
            domainNameServers: try addresses(subnet.domainNameServers, "DNS servers"), ntpServers: try addresses(subnet.ntpServers, "NTP servers"))
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
