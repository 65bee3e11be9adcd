import DHCPNetwork
import Engine

/// Sends the engine's replies through the sockets, addressed as docs/PROTOCOL.md §4 describes.
struct NetworkReplySender: ReplySender {
    let sockets: DHCPSockets

    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable {
        try sockets.sendReply(
            reply.packet, requestSource: (reply.answerIP, reply.answerPort), arrivedOnProxy: reply.arrivedOnProxy
        )
    }
}
