import Databases
import DaemonWeb
import Engine
import Foundation
import Generations
import Scripting
import Synchronization

/// A generation of a conf.lua (server 192.0.2.1, no database, `lua` after the settings) whose
/// `init()` has run on `engine`, with its store in the conf.lua's own fresh directory.
func loadGeneration(number: Int = 1, _ lua: String = "", on engine: DHCPEngine) async throws -> LoadedGeneration {
    let home = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true).appendingPathComponent("daemonweb-\(UUID())")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    let conf = home.appendingPathComponent("conf.lua")
    try ("DHCP_SERVER_IP = \"192.0.2.1\"\n" + lua).write(to: conf, atomically: true, encoding: .utf8)
    let runtime = try ScriptRuntime(configFile: conf, log: ClosureScriptLog { _, _, _ in })
    let store = ScriptStore.local(try KeyValueStore(directory: home.appendingPathComponent("state").path))
    try await engine.perform {
        runtime.attachStore(store, timeout: 1)
        try runtime.callInit()
    }
    return LoadedGeneration(number: number, runtime: runtime, settings: runtime.settings, database: NullDatabase(), store: store)
}

/// An engine that only runs jobs: the scripts' calls go through it as in the daemon.
func jobEngine() -> DHCPEngine {
    DHCPEngine(
        generation: Generation(number: 0, configuration: EngineConfiguration(serverIP: .zero), hooks: NoHooks(), database: NullDatabase()),
        sender: NoSender(), executor: JobThread())
}

struct NoSender: ReplySender {
    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable { "nowhere" }
}

/// Publishes `generation` as the server's refresh does.
func publish(_ generation: LoadedGeneration, on engine: DHCPEngine, to snapshot: LockedWebSnapshot,
             counters: EngineCounters = EngineCounters(), sockets: [String] = []) async {
    let registrations = await engine.perform { generation.runtime.webRegistrations() }
    snapshot.update {
        $0.publish(generation: generation, engine: engine, counters: counters, registrations: registrations, sockets: sockets, network: nil)
    }
}

/// How many times something happened, from any thread.
final class Count: Sendable {
    private let atomic = Atomic<Int>(0)
    func add() { atomic.add(1, ordering: .relaxed) }
    var value: Int { atomic.load(ordering: .relaxed) }
}
