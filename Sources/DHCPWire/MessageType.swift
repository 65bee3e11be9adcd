/// DHCP message types (option 53).
public enum DHCPMessageType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case discover = 1, offer, request, decline, ack, nak, release, inform, forceRenew
    case leaseQuery, leaseUnassigned, leaseUnknown, leaseActive

    /// The original's constant name, e.g. `DHCP_DISCOVER`.
    public var name: String {
        switch self {
        case .discover: "DHCP_DISCOVER"
        case .offer: "DHCP_OFFER"
        case .request: "DHCP_REQUEST"
        case .decline: "DHCP_DECLINE"
        case .ack: "DHCP_ACK"
        case .nak: "DHCP_NAK"
        case .release: "DHCP_RELEASE"
        case .inform: "DHCP_INFORM"
        case .forceRenew: "DHCP_FORCERENEW"
        case .leaseQuery: "DHCP_LEASEQUERY"
        case .leaseUnassigned: "DHCP_LEASEUNASSIGNED"
        case .leaseUnknown: "DHCP_LEASEUNKNOWN"
        case .leaseActive: "DHCP_LEASEACTIVE"
        }
    }

    /// The part after `DHCP_`, as staticDHCPd logs it (`OFFER`, `ACK`...). Spelled out rather
    /// than cut from `name`: every reply asks for it, and literals cost no allocation.
    public var shortName: String {
        switch self {
        case .discover: "DISCOVER"
        case .offer: "OFFER"
        case .request: "REQUEST"
        case .decline: "DECLINE"
        case .ack: "ACK"
        case .nak: "NAK"
        case .release: "RELEASE"
        case .inform: "INFORM"
        case .forceRenew: "FORCERENEW"
        case .leaseQuery: "LEASEQUERY"
        case .leaseUnassigned: "LEASEUNASSIGNED"
        case .leaseUnknown: "LEASEUNKNOWN"
        case .leaseActive: "LEASEACTIVE"
        }
    }

    public var description: String { name }
}

/// How the server handles a request (docs/PROTOCOL.md §1.2).
public enum RequestMethod: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case discover, requestSelecting, requestInitReboot, requestRenew, requestRebind
    /// A REQUEST that fits none of the RFC 2131 states: logged as not compliant and dropped.
    case request
    case inform, decline, release, leaseQuery

    /// The method string scripts see.
    public var name: String {
        switch self {
        case .discover: "DISCOVER"
        case .requestSelecting: "REQUEST:SELECTING"
        case .requestInitReboot: "REQUEST:INIT-REBOOT"
        case .requestRenew: "REQUEST:RENEW"
        case .requestRebind: "REQUEST:REBIND"
        case .request: "REQUEST"
        case .inform: "INFORM"
        case .decline: "DECLINE"
        case .release: "RELEASE"
        case .leaseQuery: "LEASEQUERY"
        }
    }

    public var description: String { name }
}

extension DHCPPacket {
    /// The first byte of option 53 as a known type; nil when 53 is absent, empty or unknown.
    public var messageType: DHCPMessageType? {
        get { firstByte(ofOption: 53).flatMap(DHCPMessageType.init(rawValue:)) }
        set {
            if let newValue { setOption(53, bytes: CollectionOfOne(newValue.rawValue)) } else { removeOption(53) }
        }
    }

    /// The name of the message type (`DHCP_OFFER`...), `ERROR_UNDEF` for 0, or `UNKNOWN_UNKNOWN`.
    public func getDHCPMessageTypeName() -> String {
        guard let byte = firstByte(ofOption: 53) else { return "UNKNOWN_UNKNOWN" }
        if byte == 0 { return "ERROR_UNDEF" }
        return DHCPMessageType(rawValue: byte)?.name ?? "UNKNOWN_UNKNOWN"
    }

    public var isDHCPDiscoverPacket: Bool { messageType == .discover }
    public var isDHCPOfferPacket: Bool { messageType == .offer }
    public var isDHCPRequestPacket: Bool { messageType == .request }
    public var isDHCPDeclinePacket: Bool { messageType == .decline }
    public var isDHCPAckPacket: Bool { messageType == .ack }
    public var isDHCPNakPacket: Bool { messageType == .nak }
    public var isDHCPReleasePacket: Bool { messageType == .release }
    public var isDHCPInformPacket: Bool { messageType == .inform }
    public var isDHCPLeaseQueryPacket: Bool { messageType == .leaseQuery }
    public var isDHCPLeaseUnassignedPacket: Bool { messageType == .leaseUnassigned }
    public var isDHCPLeaseUnknownPacket: Bool { messageType == .leaseUnknown }
    public var isDHCPLeaseActivePacket: Bool { messageType == .leaseActive }

    /// The handler for this request, or nil for types the server does not handle (offers, acks...).
    /// `sourceIP` is the UDP source address: it tells RENEW (unicast) from REBIND (0.0.0.0 or
    /// 255.255.255.255), as the original does, so a relayed REBIND counts as a RENEW.
    public func requestMethod(sourceIP: IPv4) -> RequestMethod? {
        switch messageType {
        case .discover: return .discover
        case .inform: return .inform
        case .decline: return .decline
        case .release: return .release
        case .leaseQuery: return .leaseQuery
        case .request:
            let serverID = ipv4Option(54) != nil
            let requested = ipv4Option(50) != nil
            let clientAddress = !ciaddr.isZero
            if serverID && !clientAddress { return .requestSelecting }
            if !serverID && !clientAddress && requested { return .requestInitReboot }
            if !serverID && clientAddress && !requested {
                return sourceIP.isZero || sourceIP == .broadcast ? .requestRebind : .requestRenew
            }
            return .request
        default:
            return nil
        }
    }

    // MARK: Transforms (docs/PROTOCOL.md §3.1)

    /// Options every response transform deletes.
    public static let transformStrippedCodes = CodeSet([22, 43, 50, 52, 55, 57, 60, 61, 93, 94, 97, 118, 124, 125])

    private mutating func transformToReply(_ type: DHCPMessageType) {
        op = 2
        hlen = 6
        secs = 0
        removeOptions(DHCPPacket.transformStrippedCodes)
        messageType = type
    }

    public mutating func transformToOffer() {
        transformToReply(.offer)
        ciaddr = .zero
    }

    public mutating func transformToAck() {
        transformToReply(.ack)
    }

    public mutating func transformToNak() {
        transformToReply(.nak)
        ciaddr = .zero
        yiaddr = .zero
        siaddr = .zero
        clearServerFields()
        removeOption(51)
    }

    public mutating func transformToLeaseActive() { transformToLeaseReply(.leaseActive) }
    public mutating func transformToLeaseUnassigned() { transformToLeaseReply(.leaseUnassigned) }
    public mutating func transformToLeaseUnknown() { transformToLeaseReply(.leaseUnknown) }

    private mutating func transformToLeaseReply(_ type: DHCPMessageType) {
        transformToReply(type)
        ciaddr = .zero
        clearServerFields()
    }

    private mutating func clearServerFields() {
        for index in 44..<236 { storage[index] = 0 }
    }
}
