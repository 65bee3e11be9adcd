import Databases
import Dispatch
import DHCPWire
@testable import Engine
import Synchronization
import Testing

/// A database that answers each MAC only when the test says so (it never answers on the spot:
/// no `ImmediateLookup`), so requests park as they do on PostgreSQL or HTTP.
final class GatedDatabase: Database {
    private let waiting = Mutex<[MAC: CheckedContinuation<Void, Never>]>([:])
    let entries: [MAC: [Definition]]
    init(_ entries: [MAC: [Definition]]) { self.entries = entries }
    var engineName: String { "Gated" }

    func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        await withCheckedContinuation { continuation in waiting.withLock { $0[mac] = continuation } }
        return entries[mac] ?? []
    }

    func reinitialise() async throws {}

    /// Answers `mac`'s lookup once it is asked (waits for that, up to 10 s).
    func answer(_ mac: MAC) async throws {
        for _ in 0..<1000 {
            if let continuation = waiting.withLock({ $0.removeValue(forKey: mac) }) {
                continuation.resume()
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw GateFailure(mac: mac)
    }

    struct GateFailure: Error { var mac: MAC }
}

/// Polls `condition` (up to 10 s); the outcome, not the time it took, is what tests check.
func eventually(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<1000 {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// `handleArrived`, the daemon's entry point: a datagram handed over as the engine's thread reads it.
@Suite struct ArrivalPathTests {
    let clients = (1...3).map { MAC(0x0200_0000_0010 + UInt64($0)) }

    func reservations(for macs: [MAC]) -> [MAC: [Definition]] {
        var entries: [MAC: [Definition]] = [:]
        for (index, mac) in macs.enumerated() {
            var definition = knownDefinition
            definition.ip = IPv4(192, 0, 2, UInt8(20 + index))
            entries[mac] = [definition]
        }
        return entries
    }

    func arrive(_ harness: Harness, _ mac: MAC) async {
        await harness.engine.handleArrived(Datagram(bytes: clientPacket(1, mac: mac).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
    }

    func answeredMACs(_ harness: Harness) throws -> [MAC] {
        try harness.sender.replies.map { try onTheWire($0)!.hardwareAddress() }
    }

    /// Parked requests are not queued behind one another: each is answered when its own lookup
    /// answers, so the replies follow the database's answers, which for a database answering in
    /// turn is the order the requests arrived in.
    @Test func parkedLookupsAreAnsweredAsTheirAnswersComeBack() async throws {
        let database = GatedDatabase(reservations(for: clients))
        let harness = Harness(database: database)
        for mac in clients { await arrive(harness, mac) }
        #expect(harness.engine.parked == 3)
        #expect(harness.sender.replies.isEmpty)

        // The last to arrive is answered first, without waiting for the two before it.
        try await database.answer(clients[2])
        #expect(await eventually { harness.sender.replies.count == 1 })
        try await database.answer(clients[0])
        #expect(await eventually { harness.sender.replies.count == 2 })
        try await database.answer(clients[1])
        #expect(await eventually { harness.engine.parked == 0 && harness.sender.replies.count == 3 })
        #expect(try answeredMACs(harness) == [clients[2], clients[0], clients[1]])
        let offered = try harness.sender.replies.map { try onTheWire($0)!.yiaddr }
        #expect(offered == [IPv4(192, 0, 2, 22), IPv4(192, 0, 2, 20), IPv4(192, 0, 2, 21)])
    }

    @Test func answeredInTurnTheyAreAnsweredInArrivalOrder() async throws {
        let database = GatedDatabase(reservations(for: clients))
        let harness = Harness(database: database)
        for mac in clients { await arrive(harness, mac) }
        for (count, mac) in clients.enumerated() {
            try await database.answer(mac)
            #expect(await eventually { harness.sender.replies.count == count + 1 })
        }
        #expect(try answeredMACs(harness) == clients)
    }

    /// Past `parkedLimit` waiting requests, a new one is dropped (and counted), not queued.
    @Test func beyondTheParkedLimitNewRequestsAreShed() async throws {
        let database = GatedDatabase(reservations(for: clients))
        let harness = Harness(database: database, parkedLimit: 2)
        for mac in clients { await arrive(harness, mac) }
        #expect(harness.engine.parked == 2)
        #expect(harness.engine.shed == 1)
        try await database.answer(clients[0])
        try await database.answer(clients[1])
        #expect(await eventually { harness.engine.parked == 0 })
        #expect(try answeredMACs(harness).sorted { $0.description < $1.description } == [clients[0], clients[1]])
        // The shed request never asked the database: there is nothing of it left to answer.
        #expect(harness.engine.shed == 1)
        // With room again, the same client is served.
        await arrive(harness, clients[2])
        try await database.answer(clients[2])
        #expect(await eventually { harness.sender.replies.count == 3 })
    }

    /// A request finishes on the generation it started on, even when a reload lands while its
    /// lookup waits (docs/ARCHITECTURE.md, "Generations").
    @Test func aParkedRequestFinishesOnTheGenerationItStartedOn() async throws {
        let database = GatedDatabase(reservations(for: clients))
        let hooks = ClosureHooks()
        let harness = Harness(database: database, hooks: hooks)
        await arrive(harness, clients[0])
        let nextHooks = ClosureHooks()
        let next = Generation(number: 2, configuration: await harness.engine.generation.configuration,
                              hooks: nextHooks, database: MemoryDatabase(entries: [:]))
        await harness.engine.install(next)
        try await database.answer(clients[0])
        #expect(await eventually { harness.engine.parked == 0 })
        #expect(try answeredMACs(harness) == [clients[0]])
        #expect(hooks.statistics.map(\.outcome) == [.replied])
        #expect(nextHooks.statistics.isEmpty)
    }

    /// A reload between OFFER and REQUEST: the REQUEST runs on the new generation, its database
    /// and its hooks (OfferMemoTests checks that the old OFFER's lookup is not reused).
    @Test func theRequestAfterAReloadRunsOnTheNewGeneration() async throws {
        let hooks = ClosureHooks()
        let harness = Harness(hooks: hooks)
        let offer = try #require(try onTheWire(await harness.exchange(clientPacket(1))))
        #expect(offer.option(51) == [0, 0, 0x0E, 0x10]) // 3,600 s
        var longer = knownDefinition
        longer.leaseTime = 7200
        let nextHooks = ClosureHooks()
        let next = Generation(number: 2, configuration: await harness.engine.generation.configuration,
                              hooks: nextHooks, database: MemoryDatabase(entries: [knownMAC: [longer]]))
        await harness.engine.install(next)
        let ack = try #require(try onTheWire(await harness.exchange(clientPacket(3, requested: knownDefinition.ip, server: serverIP))))
        #expect(ack.messageType == .ack)
        #expect(ack.option(51) == [0, 0, 0x1C, 0x20]) // 7,200 s: the new database's answer
        #expect(hooks.statistics.map(\.method) == ["DISCOVER"])
        #expect(nextHooks.statistics.map(\.method) == ["REQUEST:SELECTING"])
    }

    /// The socket the datagram came in on decides, not its port: a ProxyDHCP port the kernel
    /// picked (PROXY_PORT = 0) matches no configured port (docs/PROTOCOL.md §4.2).
    @Test func aDatagramThatArrivedOnTheProxySocketIsAnsweredAsSuch() async throws {
        let harness = Harness() // the engine knows no proxy port: only the datagram does
        await harness.engine.handle(Datagram(
            bytes: clientPacket(1).encode(), sourceIP: IPv4(192, 0, 2, 77), sourcePort: 4011, localPort: 40_123,
            arrivedOnProxy: true, interfaceIndex: 2, destinationIP: IPv4(192, 0, 2, 1)))
        let proxied = try #require(harness.sender.replies.last)
        #expect(proxied.arrivedOnProxy)
        // Answered at the request's own source, which the proxy rules send it back to.
        #expect(proxied.answerIP == IPv4(192, 0, 2, 77) && proxied.answerPort == 4011)

        // A main-socket datagram sent to the usual proxy port is not taken for a proxied one.
        harness.sender.clear()
        await harness.engine.handle(Datagram(
            bytes: clientPacket(1).encode(), sourceIP: IPv4(192, 0, 2, 77), sourcePort: 68, localPort: 4011,
            arrivedOnProxy: false, interfaceIndex: 2, destinationIP: IPv4(192, 0, 2, 1)))
        let onMain = try #require(harness.sender.replies.last)
        #expect(!onMain.arrivedOnProxy)
    }
}

/// A database that resumes its caller where it was, as PostgreSQL's lookups do: it records on
/// which thread it is asked and resumed, and answers from another thread (a driver's event loop).
final class ResumingFake: ResumingLookup {
    let entries: [MAC: [Definition]]
    let engineThread: JobThread
    /// (asked on the engine's thread, resumed on it), per lookup.
    let threads = Mutex<[(asked: Bool, resumed: Bool)]>([])
    let slowPathLookups = Atomic<Int>(0)

    init(_ entries: [MAC: [Definition]], engineThread: JobThread) {
        self.entries = entries
        self.engineThread = engineThread
    }

    var engineName: String { "Resuming" }
    func reinitialise() async throws {}

    func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        slowPathLookups.add(1, ordering: .relaxed)
        return entries[mac] ?? []
    }

    nonisolated(nonsending) func lookupResuming(_ mac: MAC) async throws -> [Definition] {
        let asked = engineThread.isCurrent
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume() }
        }
        let resumed = engineThread.isCurrent
        threads.withLock { $0.append((asked, resumed)) }
        return entries[mac] ?? []
    }
}

@Suite struct ResumingLookupTests {
    /// The engine awaits such a database on its own thread: no task hops to another executor,
    /// and the request is answered when the lookup resumes.
    @Test func aResumingDatabaseIsAskedAndResumedOnTheEngineThread() async throws {
        let thread = JobThread()
        let mac = MAC(0x0200_0000_0031)
        let database = ResumingFake([mac: [knownDefinition]], engineThread: thread)
        let sender = CollectingSender()
        let engine = DHCPEngine(
            generation: Generation(
                number: 1, configuration: EngineConfiguration(serverIP: serverIP, allowDHCPRelays: true),
                hooks: ClosureHooks(), database: database),
            sender: sender, parkedLimit: 16, executor: thread)
        for xid in 1...3 {
            var discover = clientPacket(1, mac: mac)
            discover.xid = UInt32(xid)
            await engine.handle(Datagram(bytes: discover.encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
        }
        #expect(sender.replies.count == 3)
        let threads = database.threads.withLock { $0 }
        #expect(threads.count == 3)
        #expect(threads.allSatisfy { $0.asked && $0.resumed }, "\(threads)")
        #expect(database.slowPathLookups.load(ordering: .relaxed) == 0)
        #expect(await engine.parked == 0)
    }
}
