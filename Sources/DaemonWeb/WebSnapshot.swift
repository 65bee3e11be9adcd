import Databases
import DHCPNetwork
import Engine
import Generations
import Scripting
import Synchronization

/// Everything the dashboard and the API read about the daemon, published by the server under a
/// lock (each tick, after each reload attempt) and read synchronously by the web adapters, so no
/// page waits in the engine's or the server's queue behind packets. At most a second old.
public struct WebSnapshot: Sendable {
    /// The engine's counters at the last tick.
    public var counters = EngineCounters()
    /// The scripts' web registrations of `generation`; nil before the first generation.
    public var registrations: WebRegistrations?
    /// The generation serving (its runtime runs the web callbacks); nil before the first one.
    public var generation: LoadedGeneration?
    /// The engine whose executor the web callbacks run on.
    public var engine: DHCPEngine?
    /// Sockets served, as the status element lists them.
    public var sockets: [String] = []
    /// The sockets' counters at the last tick.
    public var network: NetworkCounters?
    public var lastReload: ReloadOutcome?
    /// The daemons sharing the store, as the last heartbeat read them (empty with a local store).
    public var peers: [PeerRecord] = []
    public var reloads = 0
    public var reloadFailures = 0

    public init() {}

    /// `udp 192.0.2.1:67 on eth0`, the proxy port, and where layer-2 replies come from.
    public static func describe(_ sockets: DHCPSockets?, settings: Settings?) -> [String] {
        guard let sockets, let settings else { return [] }
        var served = ["udp \(settings.dhcpServerIP):\(sockets.serverPort)\(sockets.interface.map { " on \($0)" } ?? "")"]
        if let proxy = sockets.proxyPort { served.append("udp 0.0.0.0:\(proxy) (proxy)") }
        if let mac = sockets.layer2SourceMAC { served.append("layer 2 replies from \(mac)") }
        return served
    }

    /// Installs what a refresh read about `generation`, unless a newer generation was published
    /// meanwhile (a tick's refresh can finish after a reload's).
    public mutating func publish(generation: LoadedGeneration, engine: DHCPEngine, counters: EngineCounters,
                                 registrations: WebRegistrations, sockets: [String], network: NetworkCounters?) {
        if let current = self.generation, current.number > generation.number { return }
        self.generation = generation
        self.engine = engine
        self.counters = counters
        self.registrations = registrations
        self.sockets = sockets
        self.network = network
    }

    /// The generation serving and the engine it runs on, once both are published.
    var serving: (generation: LoadedGeneration, engine: DHCPEngine)? {
        guard let generation, let engine else { return nil }
        return (generation, engine)
    }
}

/// The one `WebSnapshot` the server writes and the web adapters read, under its lock.
public final class LockedWebSnapshot: Sendable {
    private let state = Mutex(WebSnapshot())

    public init() {}

    /// A copy of the snapshot as it is now.
    public func read() -> WebSnapshot { state.withLock { $0 } }

    public func update(_ change: (inout WebSnapshot) -> Void) {
        state.withLock { change(&$0) }
    }
}

/// What a web adapter throws when it cannot answer; its text is what the page or the API shows.
struct DaemonWebError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    static let notServing = DaemonWebError("the server is not serving yet")
}
