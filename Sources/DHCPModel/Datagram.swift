import DHCPWire

/// A datagram as the sockets read it (`DatagramReader`), with what the kernel told us about its
/// arrival; the engine takes it as it is read (`DHCPEngine.handleArrived`). The receive loop never
/// decodes it.
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
