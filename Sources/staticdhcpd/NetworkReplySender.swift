import DHCPNetwork
import DHCPWire
import Engine

/// Sends the engine's replies through the sockets, addressed by wire.md §7.4.
struct NetworkReplySender: ReplySender {
    let sockets: DHCPSockets

    func send(_ reply: OutgoingReply) throws -> String {
        var packet = reply.packet
        let clientMAC = (try? packet.hardwareAddress()) ?? MAC(0)
        let facts = ReplyFacts(
            broadcastFlag: packet.isBroadcast, ciaddr: packet.ciaddr, giaddr: packet.giaddr, yiaddr: packet.yiaddr,
            clientMAC: clientMAC, responseIP: packet.responseIP, responsePort: packet.responsePort,
            responseMAC: packet.responseMAC, responseSourcePort: packet.responseSourcePort
        )
        let route = ReplyAddressing.route(
            facts: facts, requestSource: (reply.answerIP, reply.answerPort),
            arrivedOnProxy: reply.arrivedOnProxy, config: sockets.addressing
        )
        packet.isBroadcast = route.broadcastFlag
        try sockets.send(packet.encode(), route: route)
        return route.description
    }
}
