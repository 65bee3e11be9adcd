import DHCPWire

/// The facts about a reply that decide where it goes: a few header fields and the hooks'
/// `response_*` overrides. `DHCPSockets.sendReply` takes them from the reply packet
/// (`ReplyFacts(reply:)`); routing decides on them alone, never on the packet's message type, so
/// it is tested without packets.
///
/// These facts, `AddressingConfig` and `ReplyRoute` are made only in this module (and its tests),
/// so the memberwise inits Swift writes serve them.
public struct ReplyFacts: Hashable, Sendable {
    /// The reply's broadcast flag as the engine left it, before addressing forces it.
    public var broadcastFlag: Bool
    public var ciaddr: IPv4
    public var giaddr: IPv4
    public var yiaddr: IPv4
    /// chaddr: the destination of layer-2 unicast replies.
    public var clientMAC: MAC
    /// `packet.response_ip`: replaces the destination, only when the flag was clear.
    public var responseIP: IPv4?
    /// `packet.response_port`: replaces the destination port.
    public var responsePort: UInt16?
    /// `packet.response_mac`: replaces chaddr as the layer-2 destination.
    public var responseMAC: MAC?
    /// `packet.response_source_port`: the UDP source port of layer-2 replies.
    public var responseSourcePort: UInt16?
}

/// What reply addressing needs to know about the server.
public struct AddressingConfig: Hashable, Sendable {
    public var serverPort: UInt16
    public var clientPort: UInt16
    /// The proxy socket's port, when one is open.
    public var proxyPort: UInt16?
    /// True when a raw layer-2 responder is open.
    public var hasLayer2Responder: Bool
}

/// Which socket a reply leaves from.
public enum ReplySocket: Hashable, Sendable, CustomStringConvertible {
    /// The main socket (source port DHCP_SERVER_PORT).
    case main
    /// The ProxyDHCP socket (source port PROXY_PORT).
    case proxy
    /// A layer-3 broadcast to 255.255.255.255. `DHCPSockets` sends it from the main socket, which is bound
    /// to the server's interface, so it leaves on the right link from port DHCP_SERVER_PORT.
    case broadcastL3
    /// A raw Ethernet frame from the layer-2 responder.
    case layer2

    /// The case's name, spelled out: printing an enum through reflection costs more than the rest
    /// of a reply's log line.
    public var description: String {
        switch self {
        case .main: "main"
        case .proxy: "proxy"
        case .broadcastL3: "broadcastL3"
        case .layer2: "layer2"
        }
    }
}

/// Where one reply goes, and the broadcast flag to write into it before encoding.
public struct ReplyRoute: Hashable, Sendable, CustomStringConvertible {
    public var socket: ReplySocket
    public var destinationIP: IPv4
    public var destinationPort: UInt16
    /// The UDP source port the reply carries: the socket's own port at layer 3; for layer 2 the server
    /// port or `response_source_port`.
    public var sourcePort: UInt16
    /// The Ethernet destination; set only for `.layer2`.
    public var destinationMAC: MAC?
    /// The broadcast flag (bit 15 of `flags`) to write into the reply before encoding it.
    public var broadcastFlag: Bool

    public var description: String {
        var text = destinationIP.description
        text.reserveCapacity(64)
        text += ":"
        text += String(destinationPort)
        text += " via "
        text += socket.description
        text += " from port "
        text += String(sourcePort)
        if let destinationMAC {
            text += " mac "
            text += destinationMAC.description
        }
        text += broadcastFlag ? " flag 1" : " flag 0"
        return text
    }
}

/// Reply addressing (docs/PROTOCOL.md §4.1 and §4.2). `requestSource` is what the reply answers:
/// the request's UDP source, or `(ciaddr, 0)` for the RENEW/REBIND replies the engine sends to the
/// client's own address. The first case that applies decides:
/// - arrived on the ProxyDHCP socket: from that socket, to ciaddr (else the request's source, else
///   broadcast) at the request's source port (the original's branch for this was dead, §6 item 10);
/// - giaddr set: to giaddr at DHCP_SERVER_PORT, whatever `requestSource` is (the original answered
///   the relayed datagram's UDP source, and a relayed RENEW at ciaddr:67, §6 item 21);
/// - request from 0.0.0.0 or 255.255.255.255: broadcast, or with a layer-2 responder and the flag
///   clear, yiaddr in a frame to chaddr;
/// - otherwise: `requestSource.ip` at DHCP_CLIENT_PORT from the main socket.
/// Then the broadcast flag to send is decided, and the script's overrides applied.
public enum ReplyAddressing {
    public static func route(
        facts: ReplyFacts, requestSource: (ip: IPv4, port: UInt16), arrivedOnProxy: Bool, config: AddressingConfig
    ) -> ReplyRoute {
        var socket = ReplySocket.main
        var destinationIP: IPv4
        var destinationPort = config.clientPort
        var sourcePort = config.serverPort
        var relayed = false
        let unspecifiedSource = requestSource.ip.isZero || requestSource.ip == .broadcast

        if arrivedOnProxy, let proxyPort = config.proxyPort {
            socket = .proxy
            sourcePort = proxyPort
            destinationIP = !facts.ciaddr.isZero ? facts.ciaddr : requestSource.ip
            if destinationIP.isZero { destinationIP = .broadcast }
            destinationPort = requestSource.port != 0 ? requestSource.port : config.clientPort
        } else if !facts.giaddr.isZero {
            relayed = true
            destinationIP = facts.giaddr
            destinationPort = config.serverPort
        } else if unspecifiedSource {
            if !config.hasLayer2Responder || facts.broadcastFlag {
                destinationIP = .broadcast
            } else {
                destinationIP = facts.yiaddr.isZero ? .broadcast : facts.yiaddr
            }
            socket = config.hasLayer2Responder ? .layer2 : .broadcastL3
        } else {
            destinationIP = requestSource.ip
        }

        // A relay broadcasts to the client when it has no address yet; otherwise the flag says whether
        // the reply itself is a broadcast.
        let forcedFlag = relayed ? facts.ciaddr.isZero : (destinationIP.isZero || destinationIP == .broadcast)

        if !facts.broadcastFlag, let override = facts.responseIP {
            destinationIP = override
        }
        if let override = facts.responsePort { destinationPort = override }
        var destinationMAC: MAC?
        if socket == .layer2 {
            if let override = facts.responseSourcePort { sourcePort = override }
            destinationMAC = destinationIP == .broadcast
                ? MAC(0xFFFF_FFFF_FFFF) : (facts.responseMAC ?? facts.clientMAC)
        }
        return ReplyRoute(
            socket: socket, destinationIP: destinationIP, destinationPort: destinationPort,
            sourcePort: sourcePort, destinationMAC: destinationMAC, broadcastFlag: forcedFlag
        )
    }
}
