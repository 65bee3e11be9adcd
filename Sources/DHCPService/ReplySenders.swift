import DHCPNetwork
import Engine

/// Sends the engine's replies through the sockets, addressed as docs/PROTOCOL.md §4 describes.
/// `DHCPService` makes its own; nothing outside needs one.
struct NetworkReplySender: ReplySender {
    let sockets: DHCPSockets

    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable {
        try sockets.sendReply(
            reply.packet, requestSource: (reply.answerIP, reply.answerPort), arrivedOnProxy: reply.arrivedOnProxy
        )
    }
}

/// `staticdhcpd explain`'s sender: the route `DHCPSockets.sendReply` would take, computed by the
/// same function, and nothing sent.
public struct RouteOnlyReplySender: ReplySender {
    public let addressing: AddressingConfig

    public init(addressing: AddressingConfig) {
        self.addressing = addressing
    }

    public func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable {
        try ReplyAddressing.route(
            reply: reply.packet, requestSource: (reply.answerIP, reply.answerPort),
            arrivedOnProxy: reply.arrivedOnProxy, config: addressing
        )
    }
}
