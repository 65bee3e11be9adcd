import Databases
// RequestContext, FilterVerdict and Statistics are in this protocol's signatures and shared with
// Scripting, which may not import Engine: re-exported so that every user of the hooks sees them.
@_exported import DHCPModel
import DHCPWire

/// A failure inside a hook (a script error, a time-out). The engine logs it and drops the packet.
public struct HookError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// The first `file.lua:LINE` the error names (conf.lua or a module): what an operator reads
    /// first in a log line or a mail, so it leads the engine's record. nil when there is none.
    public var location: String? {
        var searched = description[...]
        while let suffix = searched.range(of: ".lua:") {
            let digits = description[suffix.upperBound...].prefix(while: \.isNumber)
            var start = suffix.lowerBound
            while start > description.startIndex {
                let before = description.index(before: start)
                if description[before].isWhitespace || "\"'(<[:".contains(description[before]) { break }
                start = before
            }
            if !digits.isEmpty && start < suffix.lowerBound {
                return String(description[start..<digits.endIndex])
            }
            searched = description[suffix.upperBound...]
        }
        return nil
    }
}

/// A hook call's outcome: finished, or waiting on a round trip (a script's `store` call to a
/// shared database) before it can go on.
public enum HookStep<Value> {
    case finished(Value)
    case suspended(any SuspendedHook)
}

/// What a suspended hook finally answered.
public enum HookOutcome: Sendable {
    case verdict(FilterVerdict)
    case definitions([Definition])
    case chosen(Definition?)
    case keep(Bool)
    case failed(HookError)
}

/// A hook that waits on a round trip. The engine parks the request, awaits `wait()` (which
/// starts the round trip on the engine's thread and suspends there without blocking it), then
/// calls `resume()` on its thread, until the hook finishes. Meanwhile it serves
/// other packets (docs/ARCHITECTURE.md, "Hooks that wait").
public protocol SuspendedHook: AnyObject, Sendable {
    /// Performs the round trip the hook asked for. It runs on the caller's executor, so a store
    /// that answers through a continuation resumes the engine directly, with no hop through the
    /// global executor on the way out or back.
    nonisolated(nonsending) func wait() async
    /// Goes on with the hook: its outcome and its packet as the script left it (the request, or
    /// the reply for loadDHCPPacket), or nil when it waits again.
    func resume() -> (HookOutcome, DHCPPacket)?
    /// Drops the hook without resuming it (its request was dropped), on the engine's thread.
    func abandon()
}

extension SuspendedHook {
    public func abandon() {}
}

/// The operator's scripts, as the engine sees them. Implemented by the executable over the Lua
/// runtime; tests use plain Swift closures.
///
/// Every method is synchronous and is called only from the engine's actor, one at a time, which is
/// what lets a single Lua state serve every hook.
public protocol DHCPHooks: AnyObject, Sendable {
    var hasFilterPacket: Bool { get }
    var hasHandleUnknownMAC: Bool { get }
    var hasLoadDHCPPacket: Bool { get }
    /// A failing hook throws; the engine drops the request and logs the error at CRITICAL
    /// (docs/SCRIPTING.md, "Hooks").
    func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<FilterVerdict>
    func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<[Definition]>
    func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<Definition?>
    /// `false` drops the reply.
    func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> HookStep<Bool>
    /// The request is finished; per-request state can go.
    func endRequest(_ requestID: UInt64)
    /// One record per datagram, after it was handled.
    func deliver(_ statistics: Statistics)
    /// The 1 Hz tick. Returns the tick handlers that wait on a round trip, for the engine to
    /// finish as it does suspended hooks.
    func tick() -> [any SuspendedHook]
}

/// No scripts at all: every packet goes on, nothing is chosen among several definitions.
public final class NoHooks: DHCPHooks {
    public init() {}
    public var hasFilterPacket: Bool { false }
    public var hasHandleUnknownMAC: Bool { false }
    public var hasLoadDHCPPacket: Bool { false }
    public func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<FilterVerdict> { .finished(.accept) }
    public func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<[Definition]> { .finished([]) }
    public func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<Definition?> {
        throw HookError("\(definitions.count) definitions for \(context.mac) and no filterRetrievedDefinitions hook to choose one")
    }
    public func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> HookStep<Bool> { .finished(true) }
    public func endRequest(_ requestID: UInt64) {}
    public func deliver(_ statistics: Statistics) {}
    public func tick() -> [any SuspendedHook] { [] }
}
