import Databases
import DHCPNetwork
import Engine
import Generations
import Scripting

/// Everything the dashboard and the API read about the daemon, published by `Server` under a lock
/// (each tick, after each reload attempt) and read synchronously by the web adapters, so no page
/// waits in the engine's or the server's queue behind packets. At most a second old.
struct WebSnapshot: Sendable {
    /// The engine's counters at the last tick.
    var counters = EngineCounters()
    /// The scripts' web registrations of `generation`; nil before the first generation.
    var registrations: WebRegistrations?
    /// The generation serving (its runtime runs the web callbacks); nil before the first one.
    var generation: LoadedGeneration?
    /// The engine whose executor the web callbacks run on.
    var engine: DHCPEngine?
    /// Sockets served, as the status element lists them.
    var sockets: [String] = []
    /// The sockets' counters at the last tick.
    var network: NetworkCounters?
    var lastReload: ReloadOutcome?
    /// The daemons sharing the store, as the last heartbeat read them (empty with a local store).
    var peers: [PeerRecord] = []
    var reloads = 0
    var reloadFailures = 0

    /// `udp 192.0.2.1:67 on eth0`, the proxy port, and where layer-2 replies come from.
    static func describe(_ sockets: DHCPSockets?, settings: Settings?) -> [String] {
        guard let sockets, let settings else { return [] }
        var served = ["udp \(settings.dhcpServerIP):\(sockets.serverPort)\(sockets.interface.map { " on \($0)" } ?? "")"]
        if let proxy = sockets.proxyPort { served.append("udp 0.0.0.0:\(proxy) (proxy)") }
        if let mac = sockets.layer2SourceMAC { served.append("layer 2 replies from \(mac)") }
        return served
    }

    /// Installs what a refresh read about `generation`, unless a newer generation was published
    /// meanwhile (a tick's refresh can finish after a reload's).
    mutating func publish(generation: LoadedGeneration, engine: DHCPEngine, counters: EngineCounters,
                          registrations: WebRegistrations, sockets: [String], network: NetworkCounters?) {
        if let current = self.generation, current.number > generation.number { return }
        self.generation = generation
        self.engine = engine
        self.counters = counters
        self.registrations = registrations
        self.sockets = sockets
        self.network = network
    }
}
