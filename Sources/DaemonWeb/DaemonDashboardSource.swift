import DaemonLogging
import Databases
import Foundation
import Scripting
import Web

/// The dashboard's view of the running daemon. Everything but `reload()` reads locked snapshots
/// (`LockedWebSnapshot`, `Telemetry`, the log FIFO) without awaiting any actor, so pages and API
/// answers never queue behind packets.
public struct DaemonDashboardSource: DashboardSource {
    let snapshot: LockedWebSnapshot
    let telemetry: Telemetry
    let hub: LogHub
    let startedAt: Date
    /// This host's name, as the heartbeat records it: it tells this daemon among the store's peers.
    let host: String
    let reloader: @Sendable () async -> ReloadOutcome

    /// `reload` reinitialises the server as SIGHUP does (the dashboard's reinitialise button).
    public init(snapshot: LockedWebSnapshot, telemetry: Telemetry, hub: LogHub, startedAt: Date, host: String,
                reload: @escaping @Sendable () async -> ReloadOutcome) {
        self.snapshot = snapshot
        self.telemetry = telemetry
        self.hub = hub
        self.startedAt = startedAt
        self.host = host
        reloader = reload
    }

    public func status() async -> StatusSnapshot {
        let now = snapshot.read()
        let generation = now.generation
        let me = Self.peerKey(host: host, serverIP: generation?.settings.dhcpServerIP.description ?? "")
        return StatusSnapshot(
            startTime: startedAt, configGeneration: generation?.number ?? 0,
            lastReload: now.lastReload, sockets: now.sockets,
            databaseEngine: generation?.database.engineName ?? "none", cacheHitRate: nil,
            store: generation.map { $0.store.location },
            peers: now.peers.map { peer in
                StatusSnapshot.Peer(name: peer.name, host: peer.host, serverIP: peer.serverIP, version: peer.version,
                                    configGeneration: peer.generation, lastHeard: Date(timeIntervalSince1970: peer.heartbeat),
                                    isSelf: Self.peerKey(host: peer.host, serverIP: peer.serverIP) == me)
            }
        )
    }

    /// A daemon is one host and one DHCP_SERVER_IP: two daemons may share a host.
    private static func peerKey(host: String, serverIP: String) -> String { "\(host)/\(serverIP)" }

    public func activity() async -> ActivitySeries { telemetry.activity() }

    public func recentClients() async -> [RecentClient] { telemetry.recentClients() }

    public func logRecords() async -> [LogRecord] { hub.recentRecords() }

    public func metrics() async -> MetricsSnapshot {
        let now = snapshot.read()
        // Counted by the cache since it was opened (a reload that changes the database opens another).
        let cacheHits = (now.generation?.database as? CachingDatabase)?.cacheHits ?? 0
        var metrics = MetricsSnapshot(counters: now.counters, cacheHits: cacheHits, reloads: now.reloads,
                                      reloadFailures: now.reloadFailures, scripted: await scriptedMetrics(now))
        metrics.staleRequests = now.network?.stale ?? 0
        return metrics
    }

    public func reload() async -> ReloadOutcome {
        await reloader()
    }
}

/// What the serving generation's metrics handlers report (`callbacks.metricsAddHandler`), run on
/// its engine; empty before the first generation or when a handler fails.
func scriptedMetrics(_ snapshot: WebSnapshot) async -> [ScriptedMetric] {
    guard let (generation, engine) = snapshot.serving else { return [] }
    let runtime = generation.runtime
    return (try? await finish(on: engine) { () throws(ScriptError) in try runtime.startMetrics() }) ?? []
}
