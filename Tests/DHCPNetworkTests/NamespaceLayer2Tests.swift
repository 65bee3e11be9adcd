#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import DHCPWire
import Foundation
import Testing
@testable import DHCPNetwork

/// A server namespace (192.0.2.1 on vs0) and a client namespace (vc0, MAC 02:00:00:00:00:01) joined by
/// a veth pair; created by the test and deleted afterwards. Needs root.
private final class NamespacePair: Sendable {
    let server: String
    let client: String
    static let clientMAC = MAC(0x0200_0000_0001)

    init() throws {
        let tag = "\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        server = "sdn-l2s-\(tag)"
        client = "sdn-l2c-\(tag)"
        do {
            try shell("""
                ip netns add \(server) && ip netns add \(client) &&
                ip link add vs0 netns \(server) type veth peer vc0 netns \(client) &&
                ip netns exec \(server) sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
                ip netns exec \(client) sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
                ip -n \(server) addr add 192.0.2.1/24 dev vs0 &&
                ip -n \(server) link set vs0 up && ip -n \(server) link set lo up &&
                ip -n \(client) link set vc0 address \(NamespacePair.clientMAC) &&
                ip -n \(client) link set vc0 up
                """)
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        _ = try? shell("ip netns del \(server) 2>/dev/null; ip netns del \(client) 2>/dev/null; true")
    }

    /// Runs `body` on a private thread inside namespace `name`.
    func inside<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try onPrivateThread {
            let original = open("/proc/thread-self/ns/net", O_RDONLY)
            let target = open("/var/run/netns/\(name)", O_RDONLY)
            defer { close(original); close(target) }
            guard original >= 0, target >= 0, cnet_enter_netns(target) == 0 else {
                throw TestFailure("cannot enter namespace \(name): \(String(cString: strerror(errno)))")
            }
            defer { _ = cnet_enter_netns(original) }
            return try body()
        }
    }
}

private let isRoot = getuid() == 0
    && ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].contains { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(.serialized, .enabled(if: isRoot, "skipped: needs root and iproute2 to create network namespaces"))
struct NamespaceLayer2Tests {
    @Test func layer2ReplyReachesTheClientByteForByte() throws {
        let pair = try NamespacePair()
        defer { pair.remove() }
        let sockets = try pair.inside(pair.server) {
            try DHCPSockets(config: NetworkConfig(serverIP: IPv4(192, 0, 2, 1), responseInterface: .serverInterface),
                            logger: testLogger)
        }
        defer { sockets.shutdown() }
        #expect(sockets.interface == "vs0")
        #expect(sockets.addressing.hasLayer2Responder)
        let sourceMAC = try #require(sockets.layer2SourceMAC)

        let listener = try pair.inside(pair.client) { () throws -> Int32 in
            let fd = cnet_packet_open_listener(Int32(if_nametoindex("vc0")))
            guard fd >= 0 else { throw TestFailure("packet listener: \(String(cString: strerror(errno)))") }
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        defer { close(listener) }

        let payload = EthernetFrameTests.vectorPayload + [0x00] // an even length as well as the odd vector
        let route = ReplyAddressing.route(
            facts: ReplyFacts(broadcastFlag: false, ciaddr: .zero, giaddr: .zero, yiaddr: IPv4(192, 0, 2, 50),
                              clientMAC: NamespacePair.clientMAC),
            requestSource: (.zero, 68), arrivedOnProxy: false, config: sockets.addressing)
        #expect(route.socket == .layer2)
        try sockets.send(payload, route: route)

        let expected = try EthernetFrame.build(
            destinationMAC: NamespacePair.clientMAC, sourceMAC: sourceMAC, sourceIP: IPv4(192, 0, 2, 1),
            destinationIP: IPv4(192, 0, 2, 50), sourcePort: 67, destinationPort: 68, payload: payload)
        var seen: [UInt8]? = nil
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<50 {
            let count = recv(listener, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            let frame = Array(buffer.prefix(count))
            // Skip anything that is not our IPv4/UDP reply to port 68.
            if frame.count > 37, frame[12] == 0x08, frame[13] == 0x00, frame[23] == 0x11, frame[36] == 0, frame[37] == 68 {
                seen = frame
                break
            }
        }
        #expect(seen == expected, "the client's interface did not see the layer-2 reply as built")
        #expect(sockets.counters.sent == 1)
    }

    @Test func broadcastFromTheClientArrivesOnTheServerInterfaceAndL3BroadcastReturns() throws {
        let pair = try NamespacePair()
        defer { pair.remove() }
        try shell("ip -n \(pair.client) addr add 192.0.2.50/24 dev vc0")
        let sockets = try pair.inside(pair.server) {
            try DHCPSockets(config: NetworkConfig(serverIP: IPv4(192, 0, 2, 1), responseInterface: .none), logger: testLogger)
        }
        defer { sockets.shutdown() }
        let serverIndex = try pair.inside(pair.server) { Int32(if_nametoindex("vs0")) }
        let collector = DatagramCollector()
        let loop = ReadingLoop(sockets, deliver: collector.callback)
        defer { loop.stop() }

        let clientSocket = try pair.inside(pair.client) { () throws -> Int32 in
            let client = try TestClientSocket(bindTo: .zero, port: 68, broadcast: true)
            let fd = dup(client.fd)
            _ = "vc0".withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, 4) }
            return fd
        }
        defer { close(clientSocket) }
        let sent = [UInt8](repeating: 0x42, count: 300).withUnsafeBufferPointer {
            cnet_send_to(clientSocket, $0.baseAddress, $0.count, IPv4.broadcast.value, 67, 0, 0)
        }
        #expect(sent == 300)
        let got = collector.wait(for: 1)
        try #require(got.count == 1)
        #expect(got[0].destinationIP == .broadcast)
        #expect(got[0].sourcePort == 68)
        #expect(got[0].sourceIP == IPv4(192, 0, 2, 50))
        #expect(got[0].interfaceIndex == serverIndex)

        // Addressed as if the request had come from 0.0.0.0, to exercise the layer-3 broadcast path.
        let route = ReplyAddressing.route(
            facts: ReplyFacts(broadcastFlag: false, ciaddr: .zero, giaddr: .zero, yiaddr: IPv4(192, 0, 2, 50),
                              clientMAC: NamespacePair.clientMAC),
            requestSource: (.zero, 68), arrivedOnProxy: false, config: sockets.addressing)
        #expect(route.socket == .broadcastL3)
        try sockets.send([7, 7, 7], route: route)
        var buffer = [UInt8](repeating: 0, count: 64)
        var info = cnet_datagram_info()
        let count = buffer.withUnsafeMutableBufferPointer { cnet_recv_batch_flags(clientSocket, $0.baseAddress, 64, &info, 1, 0) }
        #expect(count == 1)
        #expect(Array(buffer.prefix(Int(info.length))) == [7, 7, 7])
        #expect(IPv4(info.source_ip) == IPv4(192, 0, 2, 1))
        #expect(info.source_port == 67)
    }
}
