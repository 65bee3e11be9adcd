import DaemonLogging
import DaemonWeb
import Databases
import Engine
import Foundation
import Testing
import Web

@Suite struct DashboardSourceTests {
    private func source(_ snapshot: LockedWebSnapshot, hub: LogHub = LogHub(configuration: .init()),
                        reload: @escaping @Sendable () async -> ReloadOutcome = { ReloadOutcome(time: Date(), succeeded: false, durationSeconds: 0) })
        -> DaemonDashboardSource {
        DaemonDashboardSource(snapshot: snapshot, telemetry: Telemetry(), hub: hub, startedAt: Date(timeIntervalSince1970: 1000),
                              host: "dhcp-a", reload: reload)
    }

    private func peer(host: String, serverIP: String, generation: Int) -> PeerRecord {
        PeerRecord(name: "lab", host: host, serverIP: serverIP, version: "0.1.0", generation: generation, pid: 1, heartbeat: 2000)
    }

    @Test func beforeTheFirstGenerationThereIsLittleToShow() async {
        let status = await source(LockedWebSnapshot()).status()
        #expect(status.configGeneration == 0 && status.databaseEngine == "none")
        #expect(status.store == nil && status.sockets.isEmpty && status.peers.isEmpty)
        #expect(status.startTime == Date(timeIntervalSince1970: 1000))
    }

    @Test func theStatusIsTheSnapshots() async throws {
        let engine = jobEngine()
        let snapshot = LockedWebSnapshot()
        let generation = try await loadGeneration(number: 3, on: engine)
        await publish(generation, on: engine, to: snapshot, sockets: ["udp 192.0.2.1:67"])
        let reload = ReloadOutcome(time: Date(), succeeded: true, durationSeconds: 0.1, generation: 3, trigger: "SIGHUP")
        snapshot.update {
            $0.lastReload = reload
            // Two daemons may share a host: DHCP_SERVER_IP tells them apart.
            $0.peers = [peer(host: "dhcp-a", serverIP: "192.0.2.1", generation: 3), peer(host: "dhcp-a", serverIP: "192.0.2.2", generation: 1),
                        peer(host: "dhcp-b", serverIP: "192.0.2.1", generation: 2)]
        }
        let status = await source(snapshot).status()
        #expect(status.configGeneration == 3)
        #expect(status.sockets == ["udp 192.0.2.1:67"])
        #expect(status.databaseEngine == "Null")
        #expect(status.store == generation.store.location)
        #expect(status.lastReload == reload)
        #expect(status.peers.map(\.isSelf) == [true, false, false])
        #expect(status.peers.map(\.configGeneration) == [3, 1, 2])
        #expect(status.peers.first?.lastHeard == Date(timeIntervalSince1970: 2000))
    }

    @Test func metricsAreTheSnapshotsCountersAndTheScriptsSamples() async throws {
        let engine = jobEngine()
        let snapshot = LockedWebSnapshot()
        let generation = try await loadGeneration(number: 1, """
            function init()
                callbacks.metricsAddHandler(function() return { {name = "guests_online", help = "Guests.", value = 4} } end)
            end
            """, on: engine)
        var counters = EngineCounters()
        counters.repliesSent = 7
        counters.hookErrors = 2
        await publish(generation, on: engine, to: snapshot, counters: counters)
        snapshot.update {
            $0.reloads = 5
            $0.reloadFailures = 1
        }
        let metrics = await source(snapshot).metrics()
        #expect(metrics.repliesSent == ["all": 7] && metrics.hookErrors == 2)
        #expect(metrics.reloads == 5 && metrics.reloadFailures == 1)
        #expect(metrics.scripted.map(\.name) == ["guests_online"])
        #expect(metrics.scripted.first?.value == 4)
        // Before the first generation: no scripts to ask.
        #expect(await source(LockedWebSnapshot()).metrics().scripted.isEmpty)
    }

    @Test func reloadAsksTheServerAndTheLogIsTheHubs() async {
        let asked = Count()
        var configuration = LogHub.Configuration()
        configuration.consoleLevel = nil
        let hub = LogHub(configuration: configuration)
        hub.log(LogRecord(time: Date(), level: .warning, logger: "main", message: "one for the dashboard"))
        let dashboard = source(LockedWebSnapshot(), hub: hub) {
            asked.add()
            return ReloadOutcome(time: Date(), succeeded: true, durationSeconds: 0, generation: 2, trigger: "web")
        }
        #expect(await dashboard.reload().generation == 2)
        #expect(asked.value == 1)
        #expect(await dashboard.logRecords().map(\.message) == ["one for the dashboard"])
    }
}
