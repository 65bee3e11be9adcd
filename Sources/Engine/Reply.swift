import DHCPWire

/// A reply the engine wants sent, with what the network layer needs to address it.
public struct OutgoingReply: Sendable {
    public var packet: DHCPPacket
    /// Who the reply answers: the request's UDP source, or `(ciaddr, 0)` for RENEW/REBIND
    /// replies, which go to the client's own address (docs/PROTOCOL.md §4.1).
    public var answerIP: IPv4
    public var answerPort: UInt16
    /// The request came in on PROXY_PORT.
    public var arrivedOnProxy: Bool

    public init(packet: DHCPPacket, answerIP: IPv4, answerPort: UInt16, arrivedOnProxy: Bool) {
        self.packet = packet
        self.answerIP = answerIP
        self.answerPort = answerPort
        self.arrivedOnProxy = arrivedOnProxy
    }
}

/// Where replies go. The executable implements it over the network layer; tests collect replies.
public protocol ReplySender: Sendable {
    /// Sends `reply`, returning where it went (described as `"192.0.2.10:68"` in the log, only
    /// when the log wants it), or throwing when the send failed.
    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable
}

/// A datagram as the sockets read it, with what the kernel told us about its arrival.
public struct Datagram: Sendable {
    public var bytes: [UInt8]
    public var sourceIP: IPv4
    public var sourcePort: UInt16
    /// The local port it arrived on (DHCP_SERVER_PORT or PROXY_PORT).
    public var localPort: UInt16
    /// It arrived on the ProxyDHCP socket. Known from the socket, not guessed from the port:
    /// PROXY_PORT may be 0 (an ephemeral port), which no configured port compares equal to.
    public var arrivedOnProxy: Bool
    /// The arrival interface (IP_PKTINFO), 0 when unknown.
    public var interfaceIndex: Int32
    /// The packet's destination address (IP_PKTINFO): 255.255.255.255 for broadcasts, 0.0.0.0 when unknown.
    public var destinationIP: IPv4

    public init(
        bytes: [UInt8], sourceIP: IPv4, sourcePort: UInt16, localPort: UInt16, arrivedOnProxy: Bool = false,
        interfaceIndex: Int32 = 0, destinationIP: IPv4 = .zero
    ) {
        self.bytes = bytes
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.localPort = localPort
        self.arrivedOnProxy = arrivedOnProxy
        self.interfaceIndex = interfaceIndex
        self.destinationIP = destinationIP
    }
}
