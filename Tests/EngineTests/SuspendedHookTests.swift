import Databases
import DHCPWire
@testable import Engine
import Testing

/// Hooks that wait on a round trip (a Lua hook's `store` call to PostgreSQL): the request parks,
/// the engine serves others meanwhile, and the request finishes with the hook's answer.
@Suite struct SuspendedHookTests {
    static let pooled = Definition(ip: IPv4(192, 0, 2, 77), leaseTime: 600, subnet: "192.0.2.0/24", serial: 0)

    @Test func aClientWhoseHooksWaitIsAnsweredWithTheirAnswers() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [Self.pooled] }
        hooks.load = { reply, _, _ in
            reply.setOption(58, bytes: [0, 0, 1, 44]) // renewal time 300
            return true
        }
        hooks.suspendFor = .milliseconds(5)
        let harness = Harness(hooks: hooks)
        let reply = try #require(try onTheWire(await harness.exchange(clientPacket(1, mac: unknownMAC))))
        #expect(reply.messageType == .offer)
        #expect(reply.yiaddr == Self.pooled.ip)
        #expect(reply.option(58) == [0, 0, 1, 44])
        #expect(hooks.suspensions == 2) // handleUnknownMAC, then loadDHCPPacket
        #expect(harness.engine.parked == 0)
        #expect(hooks.statistics.last?.outcome == .replied)
    }

    @Test func otherClientsAreServedWhileAHookWaits() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [Self.pooled] }
        hooks.suspendFor = .seconds(60)
        let gate = Completion()
        hooks.gate = gate
        let harness = Harness(hooks: hooks)
        let waiting = Task { await harness.engine.handle(Datagram(bytes: clientPacket(1, mac: unknownMAC).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67)) }
        // Let the waiting request reach its hook and park (its database lookup parks first, so
        // `parked` alone could be that lookup, before the hook ever ran).
        while hooks.suspensions == 0 || harness.engine.parked == 0 { try await Task.sleep(for: .milliseconds(1)) }
        hooks.suspendFor = nil
        let known = try #require(try onTheWire(await harness.exchange(clientPacket(1))))
        #expect(known.yiaddr == knownDefinition.ip)
        #expect(harness.engine.parked == 1) // the pool client still waits
        gate.signal()
        await waiting.value
        #expect(harness.engine.parked == 0)
        #expect(harness.sender.replies.last?.packet.yiaddr == Self.pooled.ip)
    }

    @Test func aHookPastTheParkedLimitIsAbandonedNotLeaked() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [Self.pooled] }
        hooks.suspendFor = .seconds(60)
        let gate = Completion()
        hooks.gate = gate
        // Two may wait: the first pool client's hook, and the second's database lookup (the
        // harness's database answers through a parked lookup).
        let harness = Harness(hooks: hooks, parkedLimit: 2)
        let first = Task { await harness.engine.handle(Datagram(bytes: clientPacket(1, mac: unknownMAC).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67)) }
        while hooks.suspensions == 0 || harness.engine.parked != 1 { try await Task.sleep(for: .milliseconds(1)) }
        // The second pool client's hook suspends too, but no more requests may wait: the engine
        // drops the request and tells the hook, which closes its coroutine (LuaSuspendedHook).
        await harness.engine.handle(Datagram(bytes: clientPacket(1, mac: MAC(0x0200_0000_0BBB)).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
        #expect(hooks.abandoned.load(ordering: .relaxed) == 1)
        #expect(harness.engine.shed == 1)
        gate.signal()
        await first.value
        #expect(hooks.abandoned.load(ordering: .relaxed) == 1) // the one that waited was resumed, not abandoned
    }

    @Test func aHookThatFailsAfterWaitingDropsOnlyThatRequest() async throws {
        final class FailingHook: SuspendedHook, @unchecked Sendable {
            func wait() async {}
            func resume() -> (HookOutcome, DHCPPacket)? { (.failed(HookError("store unreachable")), DHCPPacket()) }
        }
        final class Hooks: DHCPHooks, @unchecked Sendable {
            var hasFilterPacket: Bool { false }
            var hasHandleUnknownMAC: Bool { true }
            var hasLoadDHCPPacket: Bool { false }
            var outcomes: [Statistics.Outcome] = []
            func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) -> HookStep<FilterVerdict> { .finished(.accept) }
            func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<[Definition]> {
                .suspended(FailingHook())
            }
            func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<Definition?> { .finished(nil) }
            func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> HookStep<Bool> { .finished(true) }
            func endRequest(_ requestID: UInt64) {}
            func deliver(_ statistics: Statistics) { outcomes.append(statistics.outcome) }
            func tick() -> [any SuspendedHook] { [] }
        }
        let hooks = Hooks()
        let sender = CollectingSender()
        let engine = DHCPEngine(
            generation: Generation(number: 1, configuration: EngineConfiguration(serverIP: serverIP), hooks: hooks,
                                   database: MemoryDatabase(entries: [knownMAC: [knownDefinition]])),
            sender: sender, executor: JobThread())
        await engine.handle(Datagram(bytes: clientPacket(1, mac: unknownMAC).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
        #expect(sender.replies.isEmpty)
        #expect(hooks.outcomes == [.hookError])
        #expect(await engine.counters.hookErrors == 1)
        await engine.handle(Datagram(bytes: clientPacket(1).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
        #expect(sender.replies.count == 1)
    }
}
