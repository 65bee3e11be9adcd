import DaemonLogging
import Databases
import DHCPNetwork
import DHCPService
import Engine
import Foundation
import Logging
import Scripting
import ScriptedHooks

/// Runs one made-up request through the chain the daemon runs (docs/ARCHITECTURE.md, "Explaining
/// a request"): conf.lua loaded and `init()` called as at start-up, the configured database and
/// store, `LuaHooks`, and an engine whose sender only computes the route. No DHCP socket is
/// opened and nothing is sent.
public enum ExplainRun {
    /// Why explain could not run at all (exit status 2).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func run(_ request: ExplainRequest, configFile: URL) async throws(Failure) -> ExplainReport {
        let capture = ExplainLogCapture()
        let logger = capture.logger(label: "main")
        let runtime: ScriptRuntime
        do {
            runtime = try ScriptRuntime(configFile: configFile, log: SwiftLogScriptLog(capture.logger(label: "conf")))
        } catch {
            throw Failure(description: "\(configFile.path): configuration rejected:\n\(error.description)")
        }
        let settings = runtime.settings.resolvingPaths(relativeTo: configFile)
        // REALTIME_PRIORITY is not applied: explain runs on a `JobThread`, which has no scheduling policy.
        let configuration = settings.engineConfiguration
        let addressing = settings.networkConfiguration().plannedAddressing
        let engine = DHCPEngine(
            generation: Generation(number: 0, configuration: configuration, hooks: NoHooks(), database: NullDatabase()),
            sender: RouteOnlyReplySender(addressing: addressing), logger: capture.logger(label: "dhcp"),
            executor: JobThread() // explain watches no sockets
        )
        do {
            let database = try await GenerationParts.makeDatabase(
                runtime: runtime, settings: settings, engine: engine, previous: nil, logger: logger,
                databaseLogger: capture.logger(label: "databases")
            )
            let store = try await GenerationParts.openStore(
                settings: settings, configFile: configFile, previous: nil, logger: logger, takeOwnership: false
            )
            let timeout = settings.databaseTimeout
            try await engine.perform {
                runtime.attachStore(store, timeout: timeout)
                try runtime.callInit()
            }
            let hooks = LuaHooks(runtime: runtime, observeStatistics: nil, logTap: LogTap())
            await engine.install(Generation(number: 1, configuration: configuration, hooks: hooks, database: database))
        } catch {
            throw Failure(description: "\(configFile.path): start-up failed: \(error)")
        }
        let trace = DecisionTrace()
        capture.startRun()
        await engine.handle(request.datagram(for: configuration), trace: trace)
        // A Lua-defined database runs on this engine's executor, so engine and database hold each
        // other; letting go of them here lets the engine's thread, the Lua state and the database
        // connections go when this returns (the dashboard runs explain inside the daemon).
        await engine.install(Generation(number: 2, configuration: configuration, hooks: NoHooks(), database: NullDatabase()))
        return ExplainReport(request: request, trace: trace, log: capture.records)
    }
}
