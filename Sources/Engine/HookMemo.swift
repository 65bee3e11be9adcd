import Databases
import DHCPModel
import DHCPWire
import Synchronization

/// The answers of hooks that suspended (`SuspendedHook`). When a hook finishes after a wait, the
/// engine runs the request's stage again from its start, and each hook already answered takes its
/// answer from here instead of running twice. The steps before a hook within a stage only read
/// the request (the rules' checks), so running them again changes nothing.
struct HookMemo: Sendable {
    var verdict: FilterVerdict?
    var unknown: [Definition]?
    /// `.some(nil)`: filterRetrievedDefinitions chose none.
    var chosen: Definition??
    var load: (keep: Bool, reply: DHCPPacket)?

    /// Keeps a finished hook's answer; the request's packet takes what the script left in it
    /// (for loadDHCPPacket the packet is the reply, kept here instead).
    mutating func remember(_ outcome: HookOutcome, packet: DHCPPacket, into requestPacket: inout DHCPPacket) {
        switch outcome {
        case .verdict(let verdict):
            self.verdict = verdict
            requestPacket = packet
        case .definitions(let definitions):
            unknown = definitions
            requestPacket = packet
        case .chosen(let definition):
            chosen = .some(definition)
            requestPacket = packet
        case .keep(let keep):
            load = (keep, packet)
        case .failed:
            break
        }
    }
}

/// Signalled once when a request finishes; `DHCPEngine.handle` waits on it.
final class Completion: Sendable {
    private let state = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if !state.done { state.waiter = continuation }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
