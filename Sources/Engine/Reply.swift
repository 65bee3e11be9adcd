import DHCPWire

/// A reply the engine wants sent, with what the network layer needs to address it. Only the engine
/// makes one (with the memberwise init Swift writes); senders read it.
public struct OutgoingReply: Sendable {
    public var packet: DHCPPacket
    /// Who the reply answers: the request's UDP source, or `(ciaddr, 0)` for RENEW/REBIND
    /// replies, which go to the client's own address (docs/PROTOCOL.md §4.1).
    public var answerIP: IPv4
    public var answerPort: UInt16
    /// The request came in on PROXY_PORT.
    public var arrivedOnProxy: Bool
}

/// Where replies go. The executable implements it over the network layer; tests collect replies.
public protocol ReplySender: Sendable {
    /// Sends `reply`, returning where it went (described as `"192.0.2.10:68"` in the log, only
    /// when the log wants it), or throwing when the send failed.
    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable
}
