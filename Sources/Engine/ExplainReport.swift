import DHCPModel
import DHCPWire

/// What `staticdhcpd explain` (and the dashboard's /explain page) shows for one request: the
/// request, each step's decision, the log records written meanwhile, and the reply with its
/// options by name and where it would go, or why there is none. Codable for `--json`.
public struct ExplainReport: Sendable, Codable, Equatable {
    public struct Reply: Sendable, Codable, Equatable {
        /// `"OFFER"`, `"ACK"`, `"NAK"`.
        public var type: String
        public var yiaddr: String
        /// The route `ReplyAddressing` chose, e.g. `"255.255.255.255:68 via broadcastL3 from port 67 flag 1"`.
        public var destination: String
        /// The options as the client would decode them off the wire (only those sent).
        public var options: [OptionLine]
    }

    public var method: String
    public var mac: String
    public var relay: String?
    public var requestedIP: String?
    public var steps: [DecisionTrace.Step]
    public var log: [LogRecord]
    public var reply: Reply?
    /// Why there is no reply; nil when there is one.
    public var dropped: String?
    /// How the daemon would count the request (`replied`, `filtered`, `blocklisted`, ...).
    public var outcome: String?

    public init(request: ExplainRequest, trace: DecisionTrace, log: [LogRecord]) {
        method = request.method.name
        mac = request.mac.description
        relay = request.relay?.description
        requestedIP = request.requestedIP?.description
        steps = trace.steps
        self.log = log
        outcome = trace.outcome?.rawValue
        if let sent = trace.reply, let onWire = try? DHCPPacket(decoding: sent.packet.encode()) {
            reply = Reply(
                type: onWire.messageType?.shortName ?? "reply", yiaddr: onWire.yiaddr.description,
                destination: trace.destination ?? "?", options: onWire.optionLines
            )
        } else {
            dropped = trace.dropReason ?? "no reply (counted as \(trace.outcome?.rawValue ?? "not handled"))"
        }
    }

    /// 0 when a reply would be sent, 1 when the request would be dropped or ignored.
    public var exitStatus: Int32 { reply == nil ? 1 : 0 }

    /// The report for people.
    public var text: String {
        var lines = ["\(method) from \(mac)" + (relay.map { " via relay \($0)" } ?? "") + (requestedIP.map { ", requested/client IP \($0)" } ?? "")]
        lines.append("steps:")
        for step in steps { lines.append("  \(step.name): \(step.decision)") }
        if !log.isEmpty {
            lines.append("log records:")
            for record in log { lines.append("  \(record.level.rawValue.uppercased()) [\(record.logger)] \(record.message)") }
        }
        if let reply {
            lines.append("reply: \(reply.type) of \(reply.yiaddr) to \(reply.destination)")
            for option in reply.options { lines.append("  \(option.code) \(option.name): \(option.value)") }
            lines.append("=> a reply would be sent")
        } else {
            lines.append("=> no reply: \(dropped ?? "?")")
        }
        return lines.joined(separator: "\n")
    }
}
