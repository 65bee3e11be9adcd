import DHCPWire

/// What the engine tells a hook about the request it is handling.
public struct RequestContext: Sendable {
    /// `"DISCOVER"`, `"REQUEST:SELECTING"`, ... (docs/PROTOCOL.md §1.2).
    public var method: String
    public var mac: MAC
    /// The per-method client IP of docs/PROTOCOL.md §1.3; nil when absent or zero.
    public var clientIP: IPv4?
    /// giaddr; nil when zero.
    public var relayIP: IPv4?
    /// The local port the request arrived on.
    public var port: UInt16
    /// Identifies the request, so a hook layer can keep per-request state (`packet.meta`).
    public var requestID: UInt64

    public init(method: String, mac: MAC, clientIP: IPv4?, relayIP: IPv4?, port: UInt16, requestID: UInt64) {
        self.method = method
        self.mac = mac
        self.clientIP = clientIP
        self.relayIP = relayIP
        self.port = port
        self.requestID = requestID
    }
}

/// `filterPacket`'s three outcomes: `true` go on, `false` drop, `nil` drop and blocklist.
public enum FilterVerdict: Sendable, Equatable {
    case accept, drop, blocklist
}
