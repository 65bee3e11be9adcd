import DaemonWeb
import DHCPNetwork
import DHCPWire
import Engine
import Logging
import Scripting
import Testing

@Suite struct WebSnapshotTests {
    @Test func aRefreshOfAnOlderGenerationDoesNotReplaceANewerOne() async throws {
        let engine = jobEngine()
        let older = try await loadGeneration(number: 1, on: engine)
        let newer = try await loadGeneration(number: 2, on: engine)
        let snapshot = LockedWebSnapshot()
        await publish(newer, on: engine, to: snapshot, sockets: ["after the reload"])
        // A tick's refresh that read generation 1 and finished after the reload's.
        await publish(older, on: engine, to: snapshot, sockets: ["before the reload"])
        #expect(snapshot.read().generation?.number == 2)
        #expect(snapshot.read().sockets == ["after the reload"])
        // The next tick's refresh of the same generation is taken.
        var counters = EngineCounters()
        counters.repliesSent = 5
        await publish(newer, on: engine, to: snapshot, counters: counters)
        #expect(snapshot.read().counters.repliesSent == 5)
    }

    @Test func theStatusListsTheSocketsServed() throws {
        #expect(WebSnapshot.describe(nil, settings: Settings()).isEmpty)
        let loopback = IPv4(127, 0, 0, 1)
        let sockets = try DHCPSockets(
            config: NetworkConfig(serverIP: loopback, serverPort: 0, proxyPort: 0, responseInterface: .none),
            logger: Logger(label: "test"))
        defer { sockets.shutdown() }
        var settings = Settings()
        settings.dhcpServerIP = loopback
        let served = WebSnapshot.describe(sockets, settings: settings)
        let proxy = try #require(sockets.proxyPort)
        #expect(served.count == 2) // no layer-2 responder
        #expect(served.first?.hasPrefix("udp 127.0.0.1:\(sockets.serverPort)") == true)
        #expect(served.last == "udp 0.0.0.0:\(proxy) (proxy)")
    }
}
