#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNetLinux
import DHCPWire
import Logging
import Synchronization

/// A snapshot of the socket counters, for metrics.
public struct NetworkCounters: Hashable, Sendable {
    public var received: Int
    public var sent: Int
    public var sendErrors: Int
    public var receiveErrors: Int
    /// Datagrams longer than the receive slot, dropped unread.
    public var truncated: Int
    /// Requests dropped unanswered because they waited too long in the receive buffer (`BacklogShedder`).
    public var stale: Int = 0
}

/// The raw responder: an AF_PACKET socket on the response interface.
struct Layer2Responder: Sendable {
    let fd: Int32
    let interface: String
    let interfaceIndex: Int32
    let mac: MAC
}

/// The server's sockets (docs/PROTOCOL.md §4.4): the main socket, the optional ProxyDHCP socket and
/// the optional layer-2 responder, and `send`/`sendReply` for replies. They are read through
/// `makeReaders`, whose readers the engine's thread polls with epoll (DHCPService's `EngineThread`).
public final class DHCPSockets: Sendable {
    public let config: NetworkConfig
    /// The interface the main socket is bound to (nil for a loopback server address).
    public let interface: String?
    /// The ports actually bound (they differ from the configuration only when it asked for port 0).
    public let serverPort: UInt16
    public let proxyPort: UInt16?
    /// What `ReplyAddressing.route` needs to know about these sockets.
    public let addressing: AddressingConfig

    let mainFD: Int32
    let proxyFD: Int32?
    let layer2: Layer2Responder?
    let logger: Logger

    private let received = Atomic<Int>(0)
    private let sent = Atomic<Int>(0)
    private let sendErrors = Atomic<Int>(0)
    private let receiveErrors = Atomic<Int>(0)
    private let truncated = Atomic<Int>(0)
    private let stale = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let slotSize = 4096

    /// Opens and binds every socket; throws a `NetworkError` naming the address, port or interface and
    /// the reason (EADDRINUSE, EACCES, ENODEV...).
    public init(config: NetworkConfig, logger: Logger) throws(NetworkError) {
        guard (1...64).contains(config.receiveBatchSize) else {
            throw NetworkError.invalidConfiguration("receive batch size must be 1-64, got \(config.receiveBatchSize)")
        }
        if config.responseInterface == .none, !config.qtags.isEmpty {
            logger.warning("DHCP_RESPONSE_INTERFACE_QTAGS ignored: no DHCP_RESPONSE_INTERFACE is set")
        }
        self.config = config
        self.logger = logger
        let device = config.isLoopback ? nil : try SystemCall.interfaceOwning(config.serverIP)
        interface = device

        mainFD = try SystemCall.openUDP(
            port: config.serverPort, device: device, dontRoute: !config.allowRelays,
            receiveBufferBytes: config.receiveBufferBytes
        )
        var opened: [Int32] = [mainFD]
        do {
            if let port = config.proxyPort {
                let fd = try SystemCall.openUDP(
                    port: port, device: nil, dontRoute: false, receiveBufferBytes: config.receiveBufferBytes
                )
                opened.append(fd)
                proxyFD = fd
            } else {
                proxyFD = nil
            }
            layer2 = try DHCPSockets.openLayer2(config.responseInterface, serverInterface: device)
        } catch {
            for fd in opened { close(fd) }
            throw error
        }
        serverPort = SystemCall.localPort(mainFD)
        proxyPort = proxyFD.map(SystemCall.localPort)
        addressing = AddressingConfig(
            serverPort: serverPort, clientPort: config.clientPort, proxyPort: proxyPort,
            hasLayer2Responder: layer2 != nil
        )
        logger.info("listening", metadata: [
            "address": "0.0.0.0:\(serverPort)", "interface": "\(device ?? "any")",
            "proxyPort": "\(proxyPort.map(String.init) ?? "none")",
            "layer2": "\(layer2.map { "\($0.interface) \($0.mac)" } ?? "none")",
        ])
    }

    private static func openLayer2(_ setting: ResponseInterface, serverInterface: String?) throws(NetworkError) -> Layer2Responder? {
        let name: String
        switch setting {
        case .none: return nil
        case .named(let given): name = given
        case .serverInterface:
            guard let serverInterface else {
                throw NetworkError.invalidConfiguration(
                    "DHCP_RESPONSE_INTERFACE '-' needs a non-loopback DHCP_SERVER_IP; set it to nil for loopback")
            }
            name = serverInterface
        }
        let index = try SystemCall.interfaceIndex(name)
        var mac = [UInt8](repeating: 0, count: 6)
        let fd = cnet_packet_open_sender(index, &mac)
        guard fd >= 0 else {
            throw NetworkError.socketSetup(
                "opening the raw layer-2 responder on \(name): \(SystemCall.reason()); it needs CAP_NET_RAW, "
                    + "or set DHCP_RESPONSE_INTERFACE = nil to answer unconfigured clients by broadcast")
        }
        return Layer2Responder(fd: fd, interface: name, interfaceIndex: index, mac: try! MAC(bytes: mac))
    }

    deinit {
        close(mainFD)
        if let proxyFD { close(proxyFD) }
        if let layer2 { close(layer2.fd) }
    }

    public var counters: NetworkCounters {
        NetworkCounters(
            received: received.load(ordering: .relaxed), sent: sent.load(ordering: .relaxed),
            sendErrors: sendErrors.load(ordering: .relaxed), receiveErrors: receiveErrors.load(ordering: .relaxed),
            truncated: truncated.load(ordering: .relaxed),
            stale: stale.load(ordering: .relaxed)
        )
    }

    /// The hardware address layer-2 replies come from, when a raw responder is open.
    public var layer2SourceMAC: MAC? { layer2?.mac }

    /// Readers for every listening socket, for an event loop that polls them (the engine's thread).
    /// Each reader belongs to that loop's thread.
    public func makeReaders() -> [DatagramReader] {
        var readers = [DatagramReader(
            fd: mainFD, localPort: serverPort, isProxy: false, batch: config.receiveBatchSize, slotSize: slotSize, owner: self)]
        if let proxyFD, let proxyPort {
            readers.append(DatagramReader(
                fd: proxyFD, localPort: proxyPort, isProxy: true, batch: config.receiveBatchSize, slotSize: slotSize, owner: self))
        }
        return readers
    }

    /// Stops reading: every reader's next `read` returns -1, and its event loop stops watching it.
    /// Sockets close when this object is released (a reply in flight may still hold it).
    public func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.shutdown(mainFD, Int32(SHUT_RD))
        if let proxyFD { Glibc.shutdown(proxyFD, Int32(SHUT_RD)) }
    }

    /// Sends one encoded reply the way `route` says. Throws when the route needs a socket that is not
    /// open, or the kernel refuses the datagram (the reason is named).
    public func send(_ payload: [UInt8], route: ReplyRoute) throws(NetworkError) {
        do throws(NetworkError) {
            switch route.socket {
            case .main, .broadcastL3:
                try sendUDP(mainFD, label: "main", payload, route)
            case .proxy:
                guard let proxyFD else { throw NetworkError.sendFailed("route needs the proxy socket, but PROXY_PORT is not set") }
                try sendUDP(proxyFD, label: "proxy", payload, route)
            case .layer2:
                guard let layer2 else {
                    throw NetworkError.sendFailed("route needs the layer-2 responder, but DHCP_RESPONSE_INTERFACE is not set")
                }
                let frame = try EthernetFrame.build(
                    destinationMAC: route.destinationMAC ?? MAC(0xFFFF_FFFF_FFFF), sourceMAC: layer2.mac,
                    qtags: config.qtags, sourceIP: config.serverIP, destinationIP: route.destinationIP,
                    sourcePort: route.sourcePort, destinationPort: route.destinationPort, payload: payload
                )
                let result = frame.withUnsafeBytes { Glibc.send(layer2.fd, $0.baseAddress, $0.count, 0) }
                guard result >= 0 else {
                    throw NetworkError.sendFailed("layer-2 frame to \(route) on \(layer2.interface): \(SystemCall.reason())")
                }
            }
            sent.add(1, ordering: .relaxed)
        } catch {
            sendErrors.add(1, ordering: .relaxed)
            throw error
        }
    }

    private func sendUDP(_ fd: Int32, label: String, _ payload: [UInt8], _ route: ReplyRoute) throws(NetworkError) {
        // Pin the source address to DHCP_SERVER_IP: it must match the server identifier (option 54).
        let result = payload.withUnsafeBufferPointer { bytes in
            cnet_send_to(
                fd, bytes.baseAddress, bytes.count, route.destinationIP.value, route.destinationPort,
                config.serverIP.value, 0
            )
        }
        guard result >= 0 else {
            throw NetworkError.sendFailed("UDP reply to \(route) from the \(label) socket: \(SystemCall.reason())")
        }
    }

    // MARK: for the readers

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    func countReceived(_ count: Int) { received.add(count, ordering: .relaxed) }
    func countReceiveError() { receiveErrors.add(1, ordering: .relaxed) }
    func countTruncated() { truncated.add(1, ordering: .relaxed) }
    func countStale() { stale.add(1, ordering: .relaxed) }
}
