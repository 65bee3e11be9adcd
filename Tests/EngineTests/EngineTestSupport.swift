import Databases
import DHCPWire
@testable import Engine
import Synchronization

let serverIP = IPv4(192, 0, 2, 1)
let knownMAC = MAC(0x0200_0000_0001)
let unknownMAC = MAC(0x0200_0000_0099)
let knownDefinition = Definition(
    ip: IPv4(192, 0, 2, 10), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 0,
    hostname: "alpha", gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0),
    broadcastAddress: IPv4(192, 0, 2, 255), domainName: "example.org",
    domainNameServers: [IPv4(192, 0, 2, 53)], ntpServers: [IPv4(192, 0, 2, 123)]
)

/// A database answering from a dictionary, optionally failing.
struct MemoryDatabase: Database {
    var entries: [MAC: [Definition]]
    var failure: String?
    var engineName: String { "Memory" }
    func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        if let failure { throw HookError(failure) }
        return entries[mac] ?? []
    }
    func reinitialise() async throws {}
}

/// Collects what the engine sends.
final class CollectingSender: ReplySender {
    let sent = Mutex<[OutgoingReply]>([])
    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable {
        sent.withLock { $0.append(reply) }
        return "\(reply.answerIP):\(reply.answerPort)"
    }
    var replies: [OutgoingReply] { sent.withLock { $0 } }
    func clear() { sent.withLock { $0.removeAll() } }
}

/// Hooks made of closures, recording statistics.
final class ClosureHooks: DHCPHooks, @unchecked Sendable {
    var filter: ((inout DHCPPacket, RequestContext) -> FilterVerdict)?
    var unknown: ((RequestContext) throws(HookError) -> [Definition])?
    var choose: (([Definition], RequestContext) throws(HookError) -> Definition?)?
    var load: ((inout DHCPPacket, RequestContext, Definition?) throws(HookError) -> Bool)?
    var statistics: [Statistics] = []
    var ticks = 0
    /// When set, handleUnknownMAC and loadDHCPPacket suspend first (as a Lua hook waiting on a
    /// remote store does) and finish with their closure's answer after `delay`.
    var suspendFor: Duration?
    /// When set, a suspended hook waits for this instead of `suspendFor`.
    var gate: Completion?
    /// Hooks that suspended so far.
    var suspensions = 0
    /// Suspended hooks the engine dropped without resuming (`SuspendedHook.abandon`).
    let abandoned = Atomic<Int>(0)

    var hasFilterPacket: Bool { filter != nil || filterFailure != nil }
    var hasHandleUnknownMAC: Bool { unknown != nil }
    var hasLoadDHCPPacket: Bool { load != nil }
    /// When set, filterPacket fails with this error (as a Lua filterPacket that raises).
    var filterFailure: String?
    func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<FilterVerdict> {
        if let filterFailure { throw HookError(filterFailure) }
        return .finished(filter?(&packet, context) ?? .accept)
    }
    func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<[Definition]> {
        let answer = try unknown?(context) ?? []
        guard let suspendFor else { return .finished(answer) }
        suspensions += 1
        return .suspended(WaitingHook(delay: suspendFor, gate: gate, outcome: .definitions(answer), packet: packet) { [weak self] in
            self?.abandoned.add(1, ordering: .relaxed)
        })
    }
    func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<Definition?> {
        guard let choose else { throw HookError("no chooser") }
        return .finished(try choose(definitions, context))
    }
    func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> HookStep<Bool> {
        let keep = try load?(&response, context, definition) ?? true
        guard let suspendFor else { return .finished(keep) }
        suspensions += 1
        return .suspended(WaitingHook(delay: suspendFor, gate: gate, outcome: .keep(keep), packet: response))
    }
    func endRequest(_ requestID: UInt64) {}
    func deliver(_ statistics: Statistics) { self.statistics.append(statistics) }
    func tick() -> [any SuspendedHook] {
        ticks += 1
        return []
    }
}

/// A hook that has its answer already and waits `delay` (or for `gate`) before giving it, once.
final class WaitingHook: SuspendedHook, @unchecked Sendable {
    let delay: Duration
    let gate: Completion?
    let outcome: HookOutcome
    let packet: DHCPPacket
    let onAbandon: @Sendable () -> Void
    var resumed = 0

    init(delay: Duration, gate: Completion?, outcome: HookOutcome, packet: DHCPPacket, onAbandon: @escaping @Sendable () -> Void = {}) {
        self.delay = delay
        self.gate = gate
        self.outcome = outcome
        self.packet = packet
        self.onAbandon = onAbandon
    }

    func abandon() { onAbandon() }

    func wait() async {
        if let gate { await gate.wait() } else { try? await Task.sleep(for: delay) }
    }

    func resume() -> (HookOutcome, DHCPPacket)? {
        resumed += 1
        return (outcome, packet)
    }
}

struct Harness {
    let engine: DHCPEngine
    let sender = CollectingSender()
    let hooks: ClosureHooks

    init(configuration: EngineConfiguration = EngineConfiguration(serverIP: serverIP, allowDHCPRelays: true),
         database: any Database = MemoryDatabase(entries: [knownMAC: [knownDefinition]]),
         hooks: ClosureHooks = ClosureHooks(), parkedLimit: Int = 2048) {
        self.hooks = hooks
        engine = DHCPEngine(
            generation: Generation(number: 1, configuration: configuration, hooks: hooks, database: database),
            sender: sender, parkedLimit: parkedLimit, executor: JobThread()
        )
    }

    /// Sends `packet` from `source` and returns what the engine replied, if anything.
    @discardableResult
    func exchange(_ packet: DHCPPacket, from source: IPv4 = .zero, port: UInt16 = 68) async -> OutgoingReply? {
        sender.clear()
        await engine.handle(Datagram(bytes: packet.encode(), sourceIP: source, sourcePort: port, localPort: 67))
        return sender.replies.last
    }
}

/// A client packet of the given message type, as a real client would send it.
func clientPacket(_ type: UInt8, mac: MAC = knownMAC, requested: IPv4? = nil, server: IPv4? = nil,
                  ciaddr: IPv4 = .zero, giaddr: IPv4 = .zero, parameterRequest: [UInt8]? = [1, 3, 6, 15, 51, 54]) -> DHCPPacket {
    var packet = DHCPPacket()
    packet.op = 1
    packet.htype = 1
    packet.hlen = 6
    packet.xid = 0x1234_5678
    packet.ciaddr = ciaddr
    packet.giaddr = giaddr
    packet.setHardwareAddress(mac)
    packet.setOption(53, bytes: [type])
    if let requested { packet.setOption(50, bytes: requested.bytes) }
    if let server { packet.setOption(54, bytes: server.bytes) }
    if let parameterRequest { packet.setOption(55, bytes: parameterRequest) }
    return packet
}

/// The reply as the client would decode it off the wire.
func onTheWire(_ reply: OutgoingReply?) throws -> DHCPPacket? {
    guard let reply else { return nil }
    return try DHCPPacket(decoding: reply.packet.encode())
}
