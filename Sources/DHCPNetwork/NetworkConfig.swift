import DHCPModel
import DHCPWire

/// Where layer-2 (raw) replies leave from (`DHCP_RESPONSE_INTERFACE`).
public enum ResponseInterface: Hashable, Sendable {
    /// No raw responder: broadcasts go out at layer 3 (`nil` or empty in conf.lua).
    case none
    /// The interface that owns `DHCP_SERVER_IP` (`"-"`, the default).
    case serverInterface
    /// A named interface.
    case named(String)

    /// Reads the conf.lua spelling: nil or "" is `.none`, "-" is `.serverInterface`, anything else a name.
    public init(setting: String?) {
        switch setting {
        case nil, "": self = .none
        case "-": self = .serverInterface
        case let name?: self = .named(name)
        }
    }
}

/// Everything the network layer needs from the configuration. Equatable, so a reload rebinds the
/// sockets exactly when something in here changed.
public struct NetworkConfig: Sendable, Equatable {
    /// `DHCP_SERVER_IP`: picks the listening interface, and is the source address of every reply.
    public var serverIP: IPv4
    /// `DHCP_SERVER_PORT`; 0 binds an ephemeral port (tests).
    public var serverPort: UInt16
    /// `DHCP_CLIENT_PORT`: the destination port of replies to clients; never bound.
    public var clientPort: UInt16
    /// `PROXY_PORT`: a second listening socket when set; 0 binds an ephemeral port (tests).
    public var proxyPort: UInt16?
    /// `DHCP_RESPONSE_INTERFACE`.
    public var responseInterface: ResponseInterface
    /// `DHCP_RESPONSE_INTERFACE_QTAGS`, outermost first.
    public var qtags: [QTag]
    /// `ALLOW_DHCP_RELAYS`: when false the main socket gets SO_DONTROUTE (link-local only).
    public var allowRelays: Bool
    /// Datagrams read per `recvmmsg` call.
    public var receiveBatchSize: Int
    /// Kernel receive buffer for the listening sockets, in bytes (nil keeps the system default).
    public var receiveBufferBytes: Int?

    public init(
        serverIP: IPv4, serverPort: UInt16 = 67, clientPort: UInt16 = 68, proxyPort: UInt16? = nil,
        responseInterface: ResponseInterface = .serverInterface, qtags: [QTag] = [], allowRelays: Bool = false,
        receiveBatchSize: Int = 32, receiveBufferBytes: Int? = 4 << 20
    ) {
        self.serverIP = serverIP
        self.serverPort = serverPort
        self.clientPort = clientPort
        self.proxyPort = proxyPort
        self.responseInterface = responseInterface
        self.qtags = qtags
        self.allowRelays = allowRelays
        self.receiveBatchSize = receiveBatchSize
        self.receiveBufferBytes = receiveBufferBytes
    }

    /// The addressing `DHCPSockets` would use, without opening any socket (`staticdhcpd explain`):
    /// the configured ports, and a layer-2 responder whenever `responseInterface` asks for one.
    public var plannedAddressing: AddressingConfig {
        AddressingConfig(
            serverPort: serverPort, clientPort: clientPort, proxyPort: proxyPort,
            hasLayer2Responder: responseInterface != .none
        )
    }

    /// True for 127.0.0.0/8: the main socket is then not bound to a device (loopback tests).
    public var isLoopback: Bool { serverIP.value >> 24 == 127 }
}

/// Every error the network layer throws; each names the address, port or interface and the reason.
public enum NetworkError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    /// A socket could not be opened, configured or bound: what was being done, and the reason.
    case socketSetup(String)
    /// A reply could not be sent.
    case sendFailed(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): "invalid network configuration: \(text)"
        case .socketSetup(let text): "socket setup failed: \(text)"
        case .sendFailed(let text): "send failed: \(text)"
        }
    }
}
