import DHCPWire

/// The request `staticdhcpd explain` pretends to have received: a client's packet for one method,
/// sent directly or through a relay, as a datagram the engine handles like any other.
public struct ExplainRequest: Sendable, Equatable {
    public var mac: MAC
    public var method: RequestMethod
    /// giaddr, and the datagram's source: the relay forwards it from port 67.
    public var relay: IPv4?
    /// Option 50 for DISCOVER, SELECTING, INIT-REBOOT and DECLINE; ciaddr for RENEW, REBIND,
    /// INFORM and RELEASE (those clients already hold the address).
    public var requestedIP: IPv4?

    /// The methods a client sends (a REQUEST fitting no RFC 2131 state and LEASEQUERY are left out).
    public static let methods: [RequestMethod] = [
        .discover, .requestSelecting, .requestRenew, .requestRebind, .requestInitReboot, .inform, .release, .decline,
    ]

    public init(mac: MAC, method: RequestMethod = .discover, relay: IPv4? = nil, requestedIP: IPv4? = nil) throws(ExplainError) {
        self.mac = mac
        self.method = method
        self.relay = relay
        self.requestedIP = requestedIP
        if requestedIP == nil && Self.needsAddress.contains(method) {
            throw ExplainError("\(method.name) needs --requested-ip (\(Self.usesCiaddr.contains(method) ? "the client's ciaddr" : "option 50"))")
        }
    }

    /// The request from the text of the command line's options or the dashboard's form fields;
    /// empty fields count as absent, and the method defaults to DISCOVER.
    public init(parsing mac: String, method: String?, relay: String?, requestedIP: String?) throws(ExplainError) {
        func present(_ text: String?) -> String? {
            guard let trimmed = text?.trimmingWhitespace, !trimmed.isEmpty else { return nil }
            return trimmed
        }
        func address(_ text: String?, _ what: String) throws(ExplainError) -> IPv4? {
            guard let text = present(text) else { return nil }
            guard let ip = IPv4(text) else { throw ExplainError("\(what) \"\(text)\" is not an IPv4 address") }
            return ip
        }
        guard let macText = present(mac) else { throw ExplainError("a MAC address is needed") }
        guard let parsed = MAC(macText) else { throw ExplainError("\"\(macText)\" is not a MAC address") }
        try self.init(
            mac: parsed, method: try present(method).map { text throws(ExplainError) in try Self.method(named: text) } ?? .discover,
            relay: try address(relay, "relay"), requestedIP: try address(requestedIP, "requested IP")
        )
    }

    /// `"DISCOVER"`, `"REQUEST:RENEW"`, ... as scripts see them; case does not matter.
    public static func method(named name: String) throws(ExplainError) -> RequestMethod {
        guard let method = methods.first(where: { $0.name == name.uppercased() }) else {
            throw ExplainError("unknown method \"\(name)\"; one of \(methods.map(\.name).joined(separator: ", "))")
        }
        return method
    }

    private static let needsAddress: Set<RequestMethod> = [.requestInitReboot, .requestRenew, .requestRebind, .inform, .release, .decline]
    private static let usesCiaddr: Set<RequestMethod> = [.requestRenew, .requestRebind, .inform, .release]

    /// The datagram as it would arrive on `configuration`'s server port. The engine classifies
    /// it again (`requestMethod(sourceIP:)`), so the packet carries what makes it that method:
    /// option 54 for SELECTING, DECLINE and RELEASE; ciaddr and a unicast source for RENEW; ciaddr
    /// and no source address for REBIND (a relayed REBIND would read as RENEW, so it never has one).
    public func datagram(for configuration: EngineConfiguration) -> Datagram {
        var packet = DHCPPacket()
        packet.op = 1
        packet.htype = 1
        packet.hlen = 6
        packet.xid = 0x4558_504C // "EXPL"
        packet.setHardwareAddress(mac)
        packet.messageType = messageType
        if let relay {
            packet.giaddr = relay
            packet.hops = 1
        }
        let clientAddress = Self.usesCiaddr.contains(method) ? requestedIP : nil
        if let clientAddress { packet.ciaddr = clientAddress }
        if !Self.usesCiaddr.contains(method), let requestedIP { packet.setOption(OptionCode.requestedIP, bytes: requestedIP.bytes) }
        if [.requestSelecting, .decline, .release].contains(method) {
            packet.setOption(OptionCode.serverIdentifier, bytes: configuration.serverIP.bytes)
        }
        if ![.decline, .release].contains(method) {
            // Option 55, what a common client asks for: mask, router, DNS, hostname, domain, broadcast, NTP,
            // lease time, server identifier, renewal and rebinding times.
            packet.setOption(55, bytes: [1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59])
        }
        let source: (IPv4, UInt16)
        if method == .requestRebind {
            source = (.zero, 68)
        } else if let relay {
            source = (relay, 67)
        } else {
            source = (clientAddress ?? .zero, 68)
        }
        return Datagram(bytes: packet.encode(), sourceIP: source.0, sourcePort: source.1, localPort: configuration.serverPort)
    }

    private var messageType: DHCPMessageType {
        switch method {
        case .discover: .discover
        case .inform: .inform
        case .release: .release
        case .decline: .decline
        case .leaseQuery: .leaseQuery
        case .requestSelecting, .requestInitReboot, .requestRenew, .requestRebind, .request: .request
        }
    }
}

/// A request `staticdhcpd explain` cannot build (a usage error: exit status 2).
public struct ExplainError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
