#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Databases
import DHCPNetwork
import DHCPService
import DHCPWire
import Engine
import Logging
import Synchronization

let loopback = IPv4(127, 0, 0, 1)
let knownMAC = MAC(0x0200_0000_0001)
let knownDefinition = Definition(ip: IPv4(192, 0, 2, 10), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 0)
let testLogger = Logger(label: "DHCPServiceTests")

/// Sockets on 127.0.0.1 at ports the kernel picks.
func loopbackSockets(proxy: Bool = false) throws -> DHCPSockets {
    try DHCPSockets(
        config: NetworkConfig(serverIP: loopback, serverPort: 0, clientPort: 68, proxyPort: proxy ? 0 : nil,
                              responseInterface: .none, receiveBufferBytes: nil),
        logger: testLogger)
}

/// What one generation's scripts saw: one record per datagram the engine handled.
final class RecordingHooks: DHCPHooks, Sendable {
    struct Seen: Equatable, Sendable {
        var generation: Int
        var mac: MAC?
        var port: UInt16
    }

    let generation: Int
    let log: SeenLog
    init(generation: Int, log: SeenLog) {
        self.generation = generation
        self.log = log
    }

    var hasFilterPacket: Bool { false }
    var hasHandleUnknownMAC: Bool { false }
    var hasLoadDHCPPacket: Bool { false }
    func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<FilterVerdict> { .finished(.accept) }
    func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<[Definition]> { .finished([]) }
    func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<Definition?> { .finished(definitions.first) }
    func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> HookStep<Bool> { .finished(true) }
    func endRequest(_ requestID: UInt64) {}
    func deliver(_ statistics: Statistics) {
        log.append(Seen(generation: generation, mac: statistics.mac, port: statistics.port))
    }
    func tick() -> [any SuspendedHook] { [] }
}

/// Every generation's records, in the order the engine handled the datagrams.
final class SeenLog: Sendable {
    private let seen = Mutex<[RecordingHooks.Seen]>([])
    func append(_ item: RecordingHooks.Seen) { seen.withLock { $0.append(item) } }
    var all: [RecordingHooks.Seen] { seen.withLock { $0 } }

    /// Waits (up to 10 s, polling) until at least `count` records are in.
    func wait(for count: Int) async -> [RecordingHooks.Seen] {
        for _ in 0..<1000 where all.count < count {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return all
    }
}

/// A database that answers on the spot, so a datagram is handled to its end in the job that read it.
struct ImmediateDatabase: Database, ImmediateLookup {
    var entries: [MAC: [Definition]] = [knownMAC: [knownDefinition]]
    var engineName: String { "Immediate" }
    func lookupMAC(_ mac: MAC) async throws -> [Definition] { entries[mac] ?? [] }
    func lookupImmediately(_ mac: MAC) throws -> [Definition]? { entries[mac] ?? [] }
    func endReadSnapshot() {}
    func reinitialise() async throws {}
}

func generation(_ number: Int, log: SeenLog, realtimePriority: Int = 0) -> Generation {
    Generation(
        number: number,
        configuration: EngineConfiguration(serverIP: loopback, realtimePriority: realtimePriority),
        hooks: RecordingHooks(generation: number, log: log), database: ImmediateDatabase()
    )
}

/// A DISCOVER from `mac`, as a client sends it.
func discover(_ mac: MAC) -> [UInt8] {
    var packet = DHCPPacket()
    packet.op = 1
    packet.htype = 1
    packet.hlen = 6
    packet.xid = 0x1234_5678
    packet.setHardwareAddress(mac)
    packet.setOption(53, bytes: [1])
    packet.setOption(55, bytes: [1, 3, 6, 15, 51, 54])
    return packet.encode()
}

/// A UDP socket on 127.0.0.1 playing the client.
struct TestClient: ~Copyable {
    let fd: Int32
    let port: UInt16

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard fd >= 0, cnet_bind_ipv4(fd, loopback.value, 0) == 0 else {
            throw ServiceTestFailure("client socket: \(String(cString: strerror(errno)))")
        }
        port = UInt16(cnet_local_port(fd))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to port: UInt16) throws {
        let sent = bytes.withUnsafeBufferPointer { cnet_send_to(fd, $0.baseAddress, $0.count, loopback.value, port, 0, 0) }
        guard sent == bytes.count else { throw ServiceTestFailure("send to port \(port): \(String(cString: strerror(errno)))") }
    }

    /// One datagram and the port it came from, or an error after 10 s.
    func receive() throws -> (bytes: [UInt8], port: UInt16) {
        var slot = [UInt8](repeating: 0, count: 2048)
        var info = cnet_datagram_info()
        let count = slot.withUnsafeMutableBufferPointer { cnet_recv_batch_flags(fd, $0.baseAddress, 2048, &info, 1, 0) }
        guard count == 1 else { throw ServiceTestFailure("no datagram within 10 s (\(String(cString: strerror(errno))))") }
        return (Array(slot.prefix(Int(info.length))), info.source_port)
    }
}

struct ServiceTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
