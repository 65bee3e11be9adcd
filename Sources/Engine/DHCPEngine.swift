import Databases
import DHCPWire
import Logging

/// Everything a reload replaces at once: the scripts, the database and the settings.
/// A request runs to its end on the generation it started with.
public struct Generation: Sendable {
    public var number: Int
    public var configuration: EngineConfiguration
    public var hooks: any DHCPHooks
    public var database: any Database {
        didSet { immediate = database as? any ImmediateLookup }
    }
    /// The database's immediate path, when it has one (looked up once, not per packet).
    private(set) var immediate: (any ImmediateLookup)?

    public init(number: Int, configuration: EngineConfiguration, hooks: any DHCPHooks, database: any Database) {
        self.number = number
        self.configuration = configuration
        self.hooks = hooks
        self.database = database
        immediate = database as? any ImmediateLookup
    }
}

/// The DHCP engine: a plain chain of steps per datagram (decode, classify, source policy,
/// abuse check, the per-method rules of server.md §2.5, reply), run on this actor.
///
/// The actor is the "one serial executor" every hook call goes through. Datagrams arrive through
/// `submit` into the bounded `intake` and are handled in batches by one drain task, without a
/// task or an executor hop per packet. A database that answers at once (SQLite, INI, a warm
/// memory cache) is asked on the spot; one that must wait (PostgreSQL, HTTP, memcached, a cache
/// miss) parks only that request in a task of its own, so a slow database never holds up others.
public actor DHCPEngine {
    public private(set) var generation: Generation
    var abuse: AbuseGuard
    let sender: any ReplySender
    let logger: Logger
    /// Datagrams waiting for the engine, bounded; read by the receive threads and shutdown.
    public nonisolated let intake: EngineIntake
    private var nextRequestID: UInt64 = 0
    public internal(set) var counters = EngineCounters()

    public init(
        generation: Generation, sender: any ReplySender, logger: Logger = Logger(label: "dhcp"),
        intakeLimit: Int = EngineIntake.defaultLimit
    ) {
        self.generation = generation
        self.abuse = AbuseGuard(configuration: generation.configuration.abuse)
        self.sender = sender
        self.logger = logger
        self.intake = EngineIntake(limit: intakeLimit)
    }

    /// Makes `next` the generation for every request that starts from now on. The blocklist and
    /// flood counters carry over; only their timeouts and threshold follow the new settings.
    public func install(_ next: Generation) {
        generation = next
        abuse.configuration = next.configuration.abuse
    }

    /// The 1 Hz tick: decays the blocklist and flood counters, then runs the scripts' tick handlers.
    public func tick() {
        abuse.tick()
        generation.hooks.tick()
    }

    /// Queues a datagram from a receive thread. False when the intake is full and the datagram was
    /// dropped (counted in `intake.shed`): a client retries, while a queue without bound would
    /// answer everyone late and exhaust memory.
    public nonisolated func submit(_ datagram: Datagram) -> Bool {
        switch intake.push(datagram) {
        case .shed:
            return false
        case .queued(let startDrain):
            if startDrain {
                Task { await self.drain() }
            }
            return true
        }
    }

    /// Handles whatever the intake holds, batch after batch, until it is empty. Between batches it
    /// yields the actor, so ticks, reloads and parked requests get their turn under load.
    private func drain() async {
        while true {
            let batch = intake.takeAll()
            if batch.isEmpty { return }
            for datagram in batch {
                handleNow(datagram)
            }
            await Task.yield()
        }
    }

    /// One datagram from the intake: answered now, or parked while its lookup waits.
    private func handleNow(_ datagram: Datagram) {
        var request = makeRequest(datagram, fromIntake: true)
        if beginRequest(&request), let mac = request.mac {
            let started = ContinuousClock.now
            let answer: Result<[Definition], any Error>?
            do {
                answer = try request.generation.immediate?.lookupImmediately(mac).map { .success($0) }
            } catch {
                answer = .failure(error)
            }
            guard let answer else {
                Task { await self.resumeAfterLookup(request) }
                return
            }
            concludeRequest(&request, lookup: answer, lookupTime: ContinuousClock.now - started)
        }
        finish(request)
    }

    private func resumeAfterLookup(_ parked: Request) async {
        var request = parked
        let (answer, time) = await lookUp(request)
        concludeRequest(&request, lookup: answer, lookupTime: time)
        finish(request)
    }

    /// The database lookup that may wait, off the actor.
    private nonisolated func lookUp(_ request: Request) async -> (Result<[Definition], any Error>, Duration) {
        let started = ContinuousClock.now
        let database = request.generation.database
        guard let mac = request.mac else { return (.success([]), .zero) }
        do {
            let found = try await database.lookupMAC(mac)
            return (.success(found), ContinuousClock.now - started)
        } catch {
            return (.failure(error), ContinuousClock.now - started)
        }
    }

    /// Handles one datagram to the end, awaiting the lookup if it must wait (tests, tools).
    public func handle(_ datagram: Datagram) async {
        var request = makeRequest(datagram, fromIntake: false)
        if beginRequest(&request) {
            let (answer, time) = await lookUp(request)
            concludeRequest(&request, lookup: answer, lookupTime: time)
        }
        finish(request)
    }

    private func makeRequest(_ datagram: Datagram, fromIntake: Bool) -> Request {
        nextRequestID &+= 1
        return Request(datagram: datagram, id: nextRequestID, generation: generation, fromIntake: fromIntake)
    }

    /// Statistics delivered, per-request script state released, the intake told.
    private func finish(_ request: Request) {
        let elapsed = ContinuousClock.now - request.started
        if let statistics = request.statistics(processingTime: elapsed.seconds) {
            counters.count(statistics)
            request.generation.hooks.deliver(statistics)
        }
        if request.context != nil {
            request.generation.hooks.endRequest(request.id)
        }
        if request.fromIntake { intake.finished() }
    }

    public var ignoredMACCount: Int { abuse.ignoredCount }
}

/// The state of one request as it moves through the chain.
struct Request: Sendable {
    let datagram: Datagram
    let id: UInt64
    let generation: Generation
    let started = ContinuousClock.now
    /// Whether the intake counts this request as in flight.
    let fromIntake: Bool
    var packet = DHCPPacket()
    /// The request as it stood before the lookup (hooks may change `packet` afterwards).
    var source: DHCPPacket?
    var method: RequestMethod?
    var mac: MAC?
    var context: RequestContext?
    var definition: Definition?
    var outcome: Statistics.Outcome = .ignored
    var processed = false
    /// False for datagram types the server has no handler for (no statistics, as the original).
    var counted = true

    init(datagram: Datagram, id: UInt64, generation: Generation, fromIntake: Bool) {
        self.datagram = datagram
        self.id = id
        self.generation = generation
        self.fromIntake = fromIntake
    }

    var configuration: EngineConfiguration { generation.configuration }

    /// The MAC for log messages; only formatted when a message is actually logged.
    var macText: String { mac.map { "\($0)" } ?? "?" }

    func statistics(processingTime: Double) -> Statistics? {
        guard counted else { return nil }
        return Statistics(
            sourceIP: datagram.sourceIP, sourcePort: datagram.sourcePort, mac: mac,
            ip: definition?.ip ?? packet.ciaddr.nonZero,
            subnet: definition?.subnet, serial: definition?.serial,
            method: method?.name, processingTime: processingTime, processed: processed,
            port: datagram.localPort, outcome: outcome
        )
    }
}

extension IPv4 {
    /// nil for 0.0.0.0, as the original's `extractIPOrNone`.
    var nonZero: IPv4? { isZero ? nil : self }
}

extension DHCPEngine {
    /// Runs `body` on the engine's executor, between packets. This is how anything else that
    /// must touch the scripts (web callbacks, a Lua-defined database, reloads) gets in line.
    public func perform<T: Sendable>(_ body: @Sendable () throws -> T) rethrows -> T {
        try body()
    }
}
