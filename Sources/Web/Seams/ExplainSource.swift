/// `staticdhcpd explain` for the dashboard's /explain form (README, "Checking a change before
/// SIGHUP"), implemented by the executable over the same code as the command.
public protocol ExplainSource: Sendable {
    /// The methods the form offers, the first the default (`DISCOVER`, `REQUEST:SELECTING`, ...).
    var methods: [String] { get }
    /// Runs the request the form describes (fields as typed; empty means absent) and reports.
    func explain(_ form: ExplainForm) async -> ExplainAnswer
}

/// The /explain form's fields, as typed.
public struct ExplainForm: Sendable, Equatable {
    public var mac: String
    public var method: String
    public var relay: String
    public var requestedIP: String

    public init(mac: String = "", method: String = "DISCOVER", relay: String = "", requestedIP: String = "") {
        self.mac = mac
        self.method = method
        self.relay = relay
        self.requestedIP = requestedIP
    }
}

/// What explain said: the command's exit status as a verdict, and its report (or error) as text.
public struct ExplainAnswer: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// A reply would be sent (exit status 0).
        case reply
        /// The request would be dropped or ignored (exit status 1).
        case noReply
        /// The form or conf.lua was refused (exit status 2).
        case refused
    }

    public var verdict: Verdict
    public var text: String

    public init(verdict: Verdict, text: String) {
        self.verdict = verdict
        self.text = text
    }
}
