import Databases
import DHCPWire
import Logging

/// Everything a reload replaces at once: the scripts, the database and the settings.
/// A request runs to its end on the generation it started with.
public struct Generation: Sendable {
    public var number: Int
    public var configuration: EngineConfiguration
    public var hooks: any DHCPHooks
    public var database: any Database

    public init(number: Int, configuration: EngineConfiguration, hooks: any DHCPHooks, database: any Database) {
        self.number = number
        self.configuration = configuration
        self.hooks = hooks
        self.database = database
    }
}

/// The DHCP engine: a plain chain of steps per datagram (decode, classify, source policy,
/// abuse check, the per-method rules of server.md §2.5, reply), run on this actor.
///
/// The actor is the "one serial executor" every hook call goes through. Database lookups are
/// awaited, so a slow database lets other packets through instead of stalling them.
public actor DHCPEngine {
    public private(set) var generation: Generation
    var abuse: AbuseGuard
    let sender: any ReplySender
    let logger: Logger
    private var nextRequestID: UInt64 = 0
    public internal(set) var counters = EngineCounters()

    public init(generation: Generation, sender: any ReplySender, logger: Logger = Logger(label: "dhcp")) {
        self.generation = generation
        self.abuse = AbuseGuard(configuration: generation.configuration.abuse)
        self.sender = sender
        self.logger = logger
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

    /// Handles one datagram to the end: reply sent (or not) and statistics delivered.
    public func handle(_ datagram: Datagram) async {
        let started = ContinuousClock.now
        let current = generation
        nextRequestID &+= 1
        var request = Request(datagram: datagram, id: nextRequestID, generation: current)
        await process(&request)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        if let statistics = request.statistics(processingTime: seconds) {
            counters.count(statistics)
            current.hooks.deliver(statistics)
        }
        if request.context != nil {
            current.hooks.endRequest(request.id)
        }
    }

    public var ignoredMACCount: Int { abuse.ignoredCount }
}

/// The state of one request as it moves through the chain.
struct Request {
    let datagram: Datagram
    let id: UInt64
    let generation: Generation
    var packet = DHCPPacket()
    var method: RequestMethod?
    var mac: MAC?
    var context: RequestContext?
    var definition: Definition?
    var outcome: Statistics.Outcome = .ignored
    var processed = false
    /// False for datagram types the server has no handler for (no statistics, as the original).
    var counted = true

    init(datagram: Datagram, id: UInt64, generation: Generation) {
        self.datagram = datagram
        self.id = id
        self.generation = generation
    }

    var configuration: EngineConfiguration { generation.configuration }

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
