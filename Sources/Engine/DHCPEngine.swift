import Databases
import DHCPModel
import DHCPWire
import Logging
import Synchronization

/// Everything a reload replaces at once: the scripts, the database and the settings.
/// A request runs to its end on the generation it started with.
public struct Generation: Sendable {
    public var number: Int
    public var configuration: EngineConfiguration
    public var hooks: any DHCPHooks
    public var database: any Database {
        didSet { findLookupPaths() }
    }
    /// The database's immediate path, when it has one (looked up once, not per packet).
    private(set) var immediate: (any ImmediateLookup)?
    /// The database's lookup that resumes on the engine's thread, when it has one.
    private(set) var resuming: (any ResumingLookup)?

    public init(number: Int, configuration: EngineConfiguration, hooks: any DHCPHooks, database: any Database) {
        self.number = number
        self.configuration = configuration
        self.hooks = hooks
        self.database = database
        findLookupPaths()
    }

    private mutating func findLookupPaths() {
        immediate = database as? any ImmediateLookup
        resuming = database as? any ResumingLookup
    }
}

/// The DHCP engine: a plain chain of steps per datagram (decode, classify, source policy,
/// abuse check, the per-method rules of docs/PROTOCOL.md §2, reply), run on this actor.
///
/// The actor runs on the executor it is given (`EngineExecutor`), the "one serial executor" every
/// hook call goes through. In the daemon that is DHCPService's `EngineThread`, which also waits on
/// the DHCP sockets and hands each datagram it reads to `handleArrived` without any hop. A database that answers at once (SQLite, INI, a warm memory
/// cache) is asked on the spot; one that must wait (PostgreSQL, HTTP, memcached, a cache miss)
/// parks only that request in a task of its own, so a slow database never holds up others.
public actor DHCPEngine {
    public private(set) var generation: Generation
    var abuse: AbuseGuard
    /// Where replies go. A reload that rebinds the sockets replaces it with the generation.
    private(set) var sender: any ReplySender
    let logger: Logger
    /// The serial executor (one thread) this actor runs on.
    public nonisolated let executor: any EngineExecutor
    /// Requests waiting for a database lookup; beyond `parkedLimit` new ones are dropped.
    private let parkedCount = Atomic<Int>(0)
    private let shedCount = Atomic<Int>(0)
    public nonisolated let parkedLimit: Int
    private var nextRequestID: UInt64 = 0
    /// The database's answers behind OFFERs awaiting their REQUEST (one lookup per exchange).
    var offers: OfferMemo
    public internal(set) var counters = EngineCounters()
    /// Hook failures repeated packet after packet, logged once a minute with a count.
    var repeatedErrors = RepeatedErrors()
    /// Schema errors (`DatabaseError.schema`: the database rejects the lookup itself) already
    /// logged at CRITICAL since the last reload: each is logged once per generation, not once per
    /// packet, since every lookup fails the same way until someone fixes the database.
    var reportedSchemaErrors: Set<String> = []
    /// Callers of `handle` waiting for their request to finish, by request id.
    private var completions: [UInt64: Completion] = [:]

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(
        generation: Generation, sender: any ReplySender, logger: Logger = Logger(label: "dhcp"),
        parkedLimit: Int = 2048, executor: any EngineExecutor,
        offerWindow: Duration = .seconds(10)
    ) {
        self.generation = generation
        self.abuse = AbuseGuard(configuration: generation.configuration.abuse)
        self.sender = sender
        self.logger = logger
        self.parkedLimit = parkedLimit
        self.executor = executor
        self.offers = OfferMemo(window: offerWindow)
    }

    deinit {
        executor.stop()
    }

    /// Requests waiting for their database lookup (what shutdown waits for).
    public nonisolated var parked: Int { parkedCount.load(ordering: .relaxed) }
    /// Requests dropped because `parkedLimit` lookups were already waiting.
    public nonisolated var shed: Int { shedCount.load(ordering: .relaxed) }

    /// Makes `next` the generation for every request that starts from now on, and `sender` (when
    /// given: the sockets were rebound) the way every reply leaves from now on, including those of
    /// requests still parked on the old generation. The blocklist and flood counters carry over;
    /// only their timeouts and threshold follow the new settings. (REALTIME_PRIORITY is the
    /// thread's scheduling policy: whoever owns the thread applies it, not the engine.)
    public func install(_ next: Generation, sender: (any ReplySender)? = nil) {
        generation = next
        reportedSchemaErrors = []
        abuse.configuration = next.configuration.abuse
        if let sender { self.sender = sender }
    }

    /// The 1 Hz tick: decays the blocklist and flood counters, then runs the scripts' tick handlers.
    public func tick() {
        abuse.tick()
        offers.removeExpired(now: .now)
        generation.immediate?.endReadSnapshot()
        for waiting in generation.hooks.tick() { finishDetached(waiting) }
    }

    /// Finishes a tick handler that waits on a round trip: no request waits on it, so it only
    /// goes on when the answer is back; a failure is logged.
    private func finishDetached(_ hook: any SuspendedHook) {
        Task {
            await hook.wait()
            guard let (outcome, _) = hook.resume() else {
                self.finishDetached(hook)
                return
            }
            if case .failed(let error) = outcome { self.logger.critical("\(error)") }
        }
    }

    /// One datagram just read on the engine's thread: answered now, or parked while its lookup
    /// or a hook waits. Call it inside `assumeIsolated` from a socket handler on the executor's thread.
    /// `trace` (nil on the daemon's path) records each step's decision (`staticdhcpd explain`).
    public func handleArrived(_ datagram: Datagram, trace: DecisionTrace? = nil) {
        var request = makeRequest(datagram)
        request.trace = trace
        if beginRequest(&request) && !advance(&request) { return }
        finish(request)
    }

    /// Takes a request from where it stands to its end. Returns false when it parked (a lookup
    /// or a hook waits; it finishes later), true when it is finished and `finish` is due.
    func advance(_ request: inout Request) -> Bool {
        do throws(Stop) {
            if request.stage == .rules {
                guard try prepare(&request), let mac = request.mac else { return true }
                if let found = rememberedOffer(request) {
                    try record(&request, lookup: .success(found), lookupTime: nil)
                } else {
                    let started = ContinuousClock.now
                    let answer: Result<[Definition], any Error>?
                    do {
                        answer = try request.generation.immediate?.lookupImmediately(mac).map { .success($0) }
                    } catch {
                        answer = .failure(error)
                    }
                    guard let answer else {
                        request.trace?.note("database", "\(request.generation.database.engineName) must wait; the request parks until it answers")
                        request.stage = .lookup
                        park(request)
                        return false
                    }
                    try record(&request, lookup: answer, lookupTime: ContinuousClock.now - started)
                }
            }
            try decide(&request)
        } catch .suspended(let hook) {
            parkHook(request, hook)
            return false
        } catch {
            stopped(&request, error)
        }
        return true
    }

    /// Whether another request may park; past `parkedLimit` waiting (a database or store that
    /// has become very slow), new ones are dropped rather than piling up.
    private func mayPark(_ request: Request) -> Bool {
        guard parkedCount.load(ordering: .relaxed) < parkedLimit else {
            let shed = shedCount.add(1, ordering: .relaxed).newValue
            if shed == 1 || shed % 10_000 == 0 {
                logger.warning("Overloaded: \(parkedLimit) requests already wait for the database or the store; \(shed) dropped so far")
            }
            completions.removeValue(forKey: request.id)?.signal()
            return false
        }
        parkedCount.add(1, ordering: .relaxed)
        return true
    }

    /// A request whose lookup must wait continues in its own task.
    private func park(_ request: Request) {
        guard mayPark(request) else { return }
        Task {
            await self.resumeAfterLookup(request)
            self.parkedCount.subtract(1, ordering: .relaxed)
        }
    }

    private func resumeAfterLookup(_ parked: Request) async {
        var request = parked
        let (answer, time) = await lookUp(request)
        do throws(Stop) {
            try record(&request, lookup: answer, lookupTime: time)
        } catch {
            stopped(&request, error)
            finish(request)
            return
        }
        if advance(&request) { finish(request) }
    }

    /// A request whose hook waits on a round trip: the round trip runs in a task, and the hook
    /// goes on here when it is back; then the request's stage runs again with the hook's answer.
    func parkHook(_ request: Request, _ hook: any SuspendedHook) {
        guard mayPark(request) else {
            hook.abandon()
            return
        }
        Task {
            await hook.wait()
            self.resumeHook(request, hook)
            self.parkedCount.subtract(1, ordering: .relaxed)
        }
    }

    private func resumeHook(_ parked: Request, _ hook: any SuspendedHook) {
        var request = parked
        guard let (outcome, packet) = hook.resume() else {
            parkHook(request, hook) // waits on another round trip
            return
        }
        if case .failed(let error) = outcome {
            stopped(&request, .hook(error))
            finish(request)
            return
        }
        request.memo.remember(outcome, packet: packet, into: &request.packet)
        if advance(&request) { finish(request) }
    }

    /// The database lookup that may wait. A `ResumingLookup` is awaited here, on the engine's
    /// thread, with no hop through another executor (docs/ARCHITECTURE.md, "Concurrency"); any
    /// other database's `lookupMAC` runs on Swift's cooperative pool.
    private func lookUp(_ request: Request) async -> (Result<[Definition], any Error>, Duration) {
        let started = ContinuousClock.now
        guard let mac = request.mac else { return (.success([]), .zero) }
        do {
            let found = if let resuming = request.generation.resuming {
                try await resuming.lookupResuming(mac)
            } else {
                try await request.generation.database.lookupMAC(mac)
            }
            return (.success(found), ContinuousClock.now - started)
        } catch {
            return (.failure(error), ContinuousClock.now - started)
        }
    }

    /// Handles one datagram to the end on the production path (`handleArrived`), waiting while
    /// its lookup or a hook waits (tests, tools). `trace` records each step's decision.
    public func handle(_ datagram: Datagram, trace: DecisionTrace? = nil) async {
        let completion = Completion()
        completions[nextRequestID &+ 1] = completion
        handleArrived(datagram, trace: trace)
        await completion.wait()
    }

    private func makeRequest(_ datagram: Datagram) -> Request {
        nextRequestID &+= 1
        return Request(datagram: datagram, id: nextRequestID, generation: generation)
    }

    /// For a REQUEST accepting one of our OFFERs: what the database said for that OFFER.
    private func rememberedOffer(_ request: Request) -> [Definition]? {
        guard request.method == .requestSelecting, let mac = request.mac else { return nil }
        return offers.take(mac: mac, xid: request.packet.xid, generation: request.generation.number, now: .now)
    }

    /// Statistics delivered, OFFERs remembered, per-request script state released.
    func finish(_ request: Request) {
        defer { completions.removeValue(forKey: request.id)?.signal() }
        if request.offered && request.outcome == .replied, let mac = request.mac, let found = request.found {
            offers.remember(found, mac: mac, xid: request.packet.xid, generation: request.generation.number, now: .now)
        }
        if let trace = request.trace, request.counted { trace.finished(request.outcome) }
        let elapsed = ContinuousClock.now - request.started
        if let statistics = request.statistics(processingTime: elapsed.seconds) {
            counters.count(statistics)
            request.generation.hooks.deliver(statistics)
        }
        if request.context != nil {
            request.generation.hooks.endRequest(request.id)
        }
    }

    public var ignoredMACCount: Int { abuse.ignoredCount }
}

/// The state of one request as it moves through the chain.
struct Request: Sendable {
    enum Stage: Sendable {
        /// The method's rules, then the lookup.
        case rules
        /// Waiting for the lookup.
        case lookup
        /// After the lookup: the hooks that choose a definition, the rules' conclusion, the reply.
        case decide
    }

    let datagram: Datagram
    let id: UInt64
    let generation: Generation
    let started = ContinuousClock.now
    var packet = DHCPPacket()
    /// The request as it stood before the lookup (hooks may change `packet` afterwards).
    var source: DHCPPacket?
    var method: RequestMethod?
    var mac: MAC?
    var context: RequestContext?
    /// Records each decision for `staticdhcpd explain`; nil on the daemon's path.
    var trace: DecisionTrace?
    var definition: Definition?
    /// The database's answer, as it came (before `handleUnknownMAC` and the other hooks).
    var found: [Definition]?
    /// An OFFER was sent (the REQUEST accepting it reuses `found`).
    var offered = false
    var outcome: Statistics.Outcome = .ignored
    /// The type of the reply sent ("OFFER", "ACK", "NAK").
    var replyType: String?
    /// Where `advance` takes the request up.
    var stage = Stage.rules
    /// The answers of hooks that suspended, for the run of their stage again.
    var memo = HookMemo()
    var processed = false
    /// False for datagram types the server has no handler for (no statistics, as the original).
    var counted = true

    init(datagram: Datagram, id: UInt64, generation: Generation) {
        self.datagram = datagram
        self.id = id
        self.generation = generation
    }

    var configuration: EngineConfiguration { generation.configuration }

    /// The MAC for log messages; only formatted when a message is actually logged.
    var macText: String { mac?.description ?? "?" }

    func statistics(processingTime: Double) -> Statistics? {
        guard counted else { return nil }
        var statistics = Statistics(
            sourceIP: datagram.sourceIP, sourcePort: datagram.sourcePort, mac: mac,
            ip: definition?.ip ?? packet.ciaddr.nonZero,
            subnet: definition?.subnet, serial: definition?.serial,
            method: method?.name, processingTime: processingTime, processed: processed,
            port: datagram.localPort, outcome: outcome
        )
        statistics.reply = replyType
        return statistics
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
