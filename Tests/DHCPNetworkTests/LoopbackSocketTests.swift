#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import DHCPWire
import Testing
@testable import DHCPNetwork

/// Real UDP round trips on 127.0.0.1 with ephemeral ports (no device binding for a loopback server).
@Suite struct LoopbackSocketTests {
    let loopback = IPv4(127, 0, 0, 1)

    func loopbackConfig(proxy: Bool) -> NetworkConfig {
        NetworkConfig(serverIP: loopback, serverPort: 0, clientPort: 68, proxyPort: proxy ? 0 : nil,
                      responseInterface: .none, receiveBufferBytes: nil)
    }

    @Test func datagramsArriveWithTheirFactsAndRepliesGoBackFromTheRightPort() throws {
        let sockets = try DHCPSockets(config: loopbackConfig(proxy: true), logger: testLogger)
        defer { sockets.shutdown() }
        #expect(sockets.interface == nil)
        #expect(sockets.serverPort != 0)
        let proxyPort = try #require(sockets.proxyPort)
        #expect(sockets.addressing == AddressingConfig(serverPort: sockets.serverPort, clientPort: 68,
                                                       proxyPort: proxyPort, hasLayer2Responder: false))
        let collector = DatagramCollector()
        let loop = ReadingLoop(sockets, deliver: collector.callback)
        defer { loop.stop() }

        let client = try TestClientSocket(bindTo: loopback)
        try client.send([1, 2, 3, 4], to: loopback, port: sockets.serverPort)
        try client.send([5, 6, 7], to: loopback, port: proxyPort)
        let got = collector.wait(for: 2)
        try #require(got.count == 2)
        let main = try #require(got.first { !$0.arrivedOnProxy })
        #expect(main.bytes == [1, 2, 3, 4])
        #expect(main.sourceIP == loopback)
        #expect(main.sourcePort == client.port)
        #expect(main.localPort == sockets.serverPort)
        #expect(main.destinationIP == loopback)
        #expect(main.interfaceIndex == Int32(if_nametoindex("lo")))
        let proxied = try #require(got.first { $0.arrivedOnProxy })
        #expect(proxied.bytes == [5, 6, 7])
        #expect(proxied.localPort == proxyPort)

        let route = ReplyAddressing.route(
            facts: ReplyFacts(broadcastFlag: false, ciaddr: loopback, giaddr: .zero, yiaddr: loopback, clientMAC: MAC(1),
                              responsePort: client.port),
            requestSource: (main.sourceIP, main.sourcePort), arrivedOnProxy: false, config: sockets.addressing)
        try sockets.send([9, 9, 9], route: route)
        let reply = try client.receive()
        #expect(reply.bytes == [9, 9, 9])
        #expect(reply.port == sockets.serverPort)

        let proxyRoute = ReplyAddressing.route(
            facts: ReplyFacts(broadcastFlag: false, ciaddr: .zero, giaddr: .zero, yiaddr: .zero, clientMAC: MAC(1)),
            requestSource: (proxied.sourceIP, proxied.sourcePort), arrivedOnProxy: true, config: sockets.addressing)
        try sockets.send([8, 8], route: proxyRoute)
        let proxyReply = try client.receive()
        #expect(proxyReply.bytes == [8, 8])
        #expect(proxyReply.port == proxyPort)

        #expect(sockets.counters == NetworkCounters(received: 2, sent: 2, sendErrors: 0, receiveErrors: 0, truncated: 0))
    }

    @Test func aBatchOfDatagramsIsDeliveredInFull() throws {
        let sockets = try DHCPSockets(config: loopbackConfig(proxy: false), logger: testLogger)
        defer { sockets.shutdown() }
        let collector = DatagramCollector()
        let loop = ReadingLoop(sockets, deliver: collector.callback)
        defer { loop.stop() }
        let client = try TestClientSocket(bindTo: loopback)
        for index in 0..<200 { try client.send([UInt8(index)], to: loopback, port: sockets.serverPort) }
        let got = collector.wait(for: 200)
        #expect(got.count == 200)
        #expect(got.map { $0.bytes[0] } == (0..<200).map { UInt8($0) })
    }

    @Test func oversizedDatagramsAreCountedAndDropped() throws {
        let sockets = try DHCPSockets(config: loopbackConfig(proxy: false), logger: testLogger)
        defer { sockets.shutdown() }
        let collector = DatagramCollector()
        let loop = ReadingLoop(sockets, deliver: collector.callback)
        defer { loop.stop() }
        let client = try TestClientSocket(bindTo: loopback)
        try client.send([UInt8](repeating: 7, count: 5000), to: loopback, port: sockets.serverPort)
        try client.send([1], to: loopback, port: sockets.serverPort)
        let got = collector.wait(for: 1)
        #expect(got.map(\.bytes) == [[1]])
        #expect(sockets.counters.truncated == 1)
    }

    @Test func shutdownStopsTheReadersAndIsIdempotent() throws {
        let sockets = try DHCPSockets(config: loopbackConfig(proxy: true), logger: testLogger)
        let client = try TestClientSocket(bindTo: loopback)
        try client.send([1], to: loopback, port: sockets.serverPort)
        sockets.shutdown()
        sockets.shutdown()
        // Even with a datagram queued, a reader of stopped sockets says "stop reading me".
        for reader in sockets.makeReaders() {
            #expect(reader.read { _ in Issue.record("read after shutdown") } == -1)
        }
        #expect(sockets.counters.received == 0)
    }

    @Test func aPortInUseIsNamedWithItsReason() throws {
        let holder = try TestClientSocket(bindTo: .zero)
        var config = loopbackConfig(proxy: false)
        config.serverPort = holder.port
        do {
            _ = try DHCPSockets(config: config, logger: testLogger)
            Issue.record("binding a port in use should fail")
        } catch {
            #expect(error.description.contains("EADDRINUSE"))
            #expect(error.description.contains("0.0.0.0:\(holder.port)"))
        }
    }

    @Test func aServerAddressNoInterfaceOwnsIsNamed() {
        let config = NetworkConfig(serverIP: IPv4(203, 0, 113, 254), serverPort: 0, responseInterface: .none)
        do {
            _ = try DHCPSockets(config: config, logger: testLogger)
            Issue.record("an address no interface owns should fail")
        } catch {
            #expect(error.description.contains("203.0.113.254"))
            #expect(error.description.contains("ENODEV"))
        }
    }

    @Test func aMissingResponseInterfaceIsNamed() {
        var config = loopbackConfig(proxy: false)
        config.responseInterface = .named("nosuchif0")
        #expect(throws: NetworkError.self) { try DHCPSockets(config: config, logger: testLogger) }
        config.responseInterface = .serverInterface
        #expect(throws: NetworkError.invalidConfiguration(
            "DHCP_RESPONSE_INTERFACE '-' needs a non-loopback DHCP_SERVER_IP; set it to nil for loopback")) {
            try DHCPSockets(config: config, logger: testLogger)
        }
    }

    @Test func badBatchSizeIsRejected() {
        var config = loopbackConfig(proxy: false)
        config.receiveBatchSize = 0
        #expect(throws: NetworkError.self) { try DHCPSockets(config: config, logger: testLogger) }
    }

    @Test func routesNeedingSocketsThatAreNotOpenThrowAndCount() throws {
        let sockets = try DHCPSockets(config: loopbackConfig(proxy: false), logger: testLogger)
        defer { sockets.shutdown() }
        let proxy = ReplyRoute(socket: .proxy, destinationIP: loopback, destinationPort: 9, sourcePort: 0, broadcastFlag: false)
        let layer2 = ReplyRoute(socket: .layer2, destinationIP: loopback, destinationPort: 9, sourcePort: 67,
                                destinationMAC: MAC(1), broadcastFlag: false)
        #expect(throws: NetworkError.self) { try sockets.send([1], route: proxy) }
        #expect(throws: NetworkError.self) { try sockets.send([1], route: layer2) }
        #expect(sockets.counters.sendErrors == 2)
    }

    @Test func responseInterfaceSettingSpellings() {
        #expect(ResponseInterface(setting: nil) == .none)
        #expect(ResponseInterface(setting: "") == .none)
        #expect(ResponseInterface(setting: "-") == .serverInterface)
        #expect(ResponseInterface(setting: "eth1") == .named("eth1"))
    }
}

@Suite struct ReceiveBufferTests {
    @Test func theReceiveBufferIsAtLeastWhatWasAskedForWhenRoot() throws {
        let sockets = try DHCPSockets(
            config: NetworkConfig(serverIP: IPv4(127, 0, 0, 1), serverPort: 0, responseInterface: .none,
                                  receiveBufferBytes: 2 << 20),
            logger: testLogger)
        defer { sockets.shutdown() }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(sockets.mainFD, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0)
        // The kernel reports double the request; without privileges it is capped at rmem_max.
        if getuid() == 0 { #expect(value >= 2 << 20) } else { #expect(value > 0) }
    }
}
