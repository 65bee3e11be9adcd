import DHCPWire

// Conveniences for callers that hold a `DHCPPacket`. Routing itself (`ReplyAddressing`) only ever
// sees `ReplyFacts`, so it can be tested without packets.

extension ReplyFacts {
    /// The facts of a reply packet, including the hooks' `response_*` overrides. Throws when chaddr
    /// cannot hold a MAC (`hlen` 1...5).
    public init(reply: DHCPPacket) throws(WireError) {
        self.init(
            broadcastFlag: reply.isBroadcast, ciaddr: reply.ciaddr, giaddr: reply.giaddr, yiaddr: reply.yiaddr,
            clientMAC: try reply.hardwareAddress(), responseIP: reply.responseIP, responsePort: reply.responsePort,
            responseMAC: reply.responseMAC, responseSourcePort: reply.responseSourcePort
        )
    }
}

extension ReplyAddressing {
    /// Where `reply` goes: the one routing step `DHCPSockets.sendReply` takes before it sends,
    /// shared with `staticdhcpd explain`, which shows the route and sends nothing.
    public static func route(
        reply: DHCPPacket, requestSource: (ip: IPv4, port: UInt16), arrivedOnProxy: Bool, config: AddressingConfig
    ) throws(WireError) -> ReplyRoute {
        route(facts: try ReplyFacts(reply: reply), requestSource: requestSource, arrivedOnProxy: arrivedOnProxy, config: config)
    }
}

extension DHCPSockets {
    /// Routes `reply` (docs/PROTOCOL.md §4), writes the broadcast flag the
    /// route asks for, encodes and sends it. `requestSource` is the request's UDP source, or
    /// `(ciaddr, 0)` for RENEW replies. Returns the route taken, for the log.
    @discardableResult
    public func sendReply(
        _ reply: DHCPPacket, requestSource: (ip: IPv4, port: UInt16), arrivedOnProxy: Bool
    ) throws -> ReplyRoute {
        var packet = reply
        let route = try ReplyAddressing.route(
            reply: packet, requestSource: requestSource, arrivedOnProxy: arrivedOnProxy, config: addressing
        )
        packet.isBroadcast = route.broadcastFlag
        try send(packet.encode(), route: route)
        return route
    }
}
