import DHCPWire

/// One record per received datagram (docs/PROTOCOL.md §5), delivered to `callbacks.statsAddHandler`
/// handlers and to the dashboard.
public struct Statistics: Sendable, Equatable {
    public var sourceIP: IPv4
    public var sourcePort: UInt16
    /// nil for datagrams that were not DHCP.
    public var mac: MAC?
    public var ip: IPv4?
    public var subnet: String?
    public var serial: Int?
    /// The final method string (`"REQUEST:RENEW"`, or `"REQUEST"` for a non-compliant one); nil for non-DHCP.
    public var method: String?
    public var processingTime: Double
    /// True when a reply was sent or a DECLINE/RELEASE was accepted.
    public var processed: Bool
    /// The local port the datagram arrived on (the original's `False` for non-DHCP is a defect).
    public var port: UInt16
    /// Why the packet was not answered, when it was not (for metrics and the dashboard).
    public var outcome: Outcome
    /// The reply sent, when one was: "OFFER", "ACK" or "NAK".
    public var reply: String?

    public enum Outcome: String, Sendable, CaseIterable {
        case replied, accepted, ignored, malformed, policy, blocklisted, suspended, filtered, unknown, hookError, databaseError, notForUs
    }

    public init(
        sourceIP: IPv4, sourcePort: UInt16, mac: MAC?, ip: IPv4?, subnet: String?, serial: Int?,
        method: String?, processingTime: Double, processed: Bool, port: UInt16, outcome: Outcome
    ) {
        self.sourceIP = sourceIP
        self.sourcePort = sourcePort
        self.mac = mac
        self.ip = ip
        self.subnet = subnet
        self.serial = serial
        self.method = method
        self.processingTime = processingTime
        self.processed = processed
        self.port = port
        self.outcome = outcome
    }

    /// What became of the request, in a few words: the reply sent, or why none was.
    public var summary: String {
        if let reply { return reply }
        switch outcome {
        case .replied: return "replied"
        case .accepted: return "accepted"
        case .ignored: return "ignored"
        case .malformed: return "dropped: malformed"
        case .policy: return "ignored: source not allowed"
        case .blocklisted: return "ignored: blocklisted"
        case .suspended: return "ignored: too many requests"
        case .filtered: return "ignored: by a hook"
        case .unknown: return "ignored: unknown MAC"
        case .hookError: return "dropped: hook failed"
        case .databaseError: return "dropped: database failed"
        case .notForUs: return "ignored: for another server"
        }
    }
}
