import DHCPModel
import DHCPWire
import Synchronization

/// What the engine decided at each step of one request, for `staticdhcpd explain`
/// (docs/ARCHITECTURE.md, "Explaining a request"). The engine writes to it only when a request
/// carries one (`DHCPEngine.handle(_:trace:)`); on the daemon's path the request's trace is nil
/// and each step costs one nil check.
public final class DecisionTrace: Sendable {
    /// One decision: the step that made it (`"source policy"`, `"filterPacket"`, ...) and what it was.
    public struct Step: Sendable, Equatable, Codable {
        public var name: String
        public var decision: String
    }

    private struct State {
        var steps: [Step] = []
        var dropReason: String?
        var reply: OutgoingReply?
        var destination: String?
        var outcome: Statistics.Outcome?
    }

    private let state = Mutex(State())

    public init() {}

    public var steps: [Step] { state.withLock { $0.steps } }
    /// Why the request got no reply; the first reason given wins (later ones are consequences).
    public var dropReason: String? { state.withLock { $0.dropReason } }
    /// The reply the engine handed to its sender, as it handed it.
    public var reply: OutgoingReply? { state.withLock { $0.reply } }
    /// Where the sender said the reply went.
    public var destination: String? { state.withLock { $0.destination } }
    /// How the request was counted (nil for datagrams the server has no handler for).
    public var outcome: Statistics.Outcome? { state.withLock { $0.outcome } }

    /// A note already made is not repeated: when a hook waits on the store, the engine runs the
    /// request's stage again with the answers it has (docs/ARCHITECTURE.md, "Hooks that wait"),
    /// and the steps before the hook decide again what they decided the first time.
    func note(_ name: String, _ decision: String) {
        let step = Step(name: name, decision: decision)
        state.withLock { state in
            if !state.steps.contains(step) { state.steps.append(step) }
        }
    }

    func drop(_ reason: String) {
        state.withLock { state in
            if state.dropReason == nil { state.dropReason = reason }
        }
    }

    func replied(_ reply: OutgoingReply, destination: String) {
        state.withLock {
            $0.reply = reply
            $0.destination = destination
        }
    }

    func finished(_ outcome: Statistics.Outcome) {
        state.withLock { $0.outcome = outcome }
    }
}
