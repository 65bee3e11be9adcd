import DaemonLogging
import Databases
import DHCPWire
import Engine
import Foundation
import Logging
import Scripting

/// The engine's hook protocol over one Lua runtime (one script generation), plus the
/// observer that wants every statistics record (the dashboard's telemetry).
///
/// Engine knows no Lua and Scripting does not import Engine: this module is the one that sees
/// both, and only turns `ScriptError`s and suspended coroutines into the engine's `HookError`
/// and `SuspendedHook`.
public final class LuaHooks: DHCPHooks {
    public let runtime: ScriptRuntime
    /// Nil when no dashboard runs: then nobody reads it, and each packet saves a dictionary update.
    public let observeStatistics: (@Sendable (Statistics) -> Void)?
    public let logTap: LogTap
    private let presence: HookPresence

    public init(runtime: ScriptRuntime, observeStatistics: (@Sendable (Statistics) -> Void)?, logTap: LogTap) {
        self.runtime = runtime
        self.observeStatistics = observeStatistics
        self.logTap = logTap
        presence = runtime.hooks
    }

    public var hasFilterPacket: Bool { presence.filterPacket }
    public var hasHandleUnknownMAC: Bool { presence.handleUnknownMAC }
    public var hasLoadDHCPPacket: Bool { presence.loadDHCPPacket }

    public func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<FilterVerdict> {
        do {
            return try LuaSuspendedHook.step(runtime.filterPacket(&packet, context), HookOutcome.verdict)
        } catch {
            throw HookError(error.description)
        }
    }

    public func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<[Definition]> {
        do {
            return try LuaSuspendedHook.step(runtime.handleUnknownMAC(&packet, context), HookOutcome.definitions)
        } catch {
            throw HookError(error.description)
        }
    }

    public func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> HookStep<Definition?> {
        do {
            return try LuaSuspendedHook.step(runtime.filterRetrievedDefinitions(definitions, &packet, context), HookOutcome.chosen)
        } catch {
            throw HookError(error.description)
        }
    }

    public func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> HookStep<Bool> {
        do {
            return try LuaSuspendedHook.step(runtime.loadDHCPPacket(&response, context, definition: definition, source: source), HookOutcome.keep)
        } catch {
            throw HookError(error.description)
        }
    }

    public func endRequest(_ requestID: UInt64) { runtime.endRequest(requestID) }

    public func deliver(_ statistics: Statistics) {
        observeStatistics?(statistics)
        guard runtime.hasStatisticsHandlers else { return }
        runtime.deliverStatistics(statistics)
    }

    public func tick() -> [any SuspendedHook] {
        let waiting = runtime.runTickHandlers()
        deliverLogRecords()
        return waiting.map { call in
            LuaSuspendedHook(call) { result in
                switch result {
                case .success: .keep(true)
                case .failure(let error): .failed(HookError(error.description))
                }
            }
        }
    }

    /// Hands the records collected since the last tick to conf.lua's log handlers, and tells the
    /// tap which level they want now (handlers may come and go).
    private func deliverLogRecords() {
        let wanted = runtime.logHandlerMinimumLevel
        logTap.setLevel(wanted.map(\.swiftLogLevel))
        guard wanted != nil else { return }
        logTap.drain { records, dropped in
            var records = records
            if dropped > 0 {
                records.insert(LogRecord(time: records.first?.time ?? Date(timeIntervalSince1970: 0), level: .warning, logger: "main",
                    message: "\(dropped) log records were dropped before reaching the log handlers"), at: 0)
            }
            runtime.deliverLogRecords(records)
        }
    }
}

/// A Lua hook suspended on a store round trip, as the engine's `SuspendedHook`.
final class LuaSuspendedHook<Value>: SuspendedHook, @unchecked Sendable {
    private let call: SuspendedCall<Value>
    private let outcome: (Result<Value, ScriptError>) -> HookOutcome

    init(_ call: SuspendedCall<Value>, outcome: @escaping (Result<Value, ScriptError>) -> HookOutcome) {
        self.call = call
        self.outcome = outcome
    }

    /// A hook's first run as an engine step: a failure afterwards (once resumed) fails the request.
    static func step(_ run: HookRun<Value>, _ finished: @escaping (Value) -> HookOutcome) -> HookStep<Value> {
        switch run {
        case .done(let value): .finished(value)
        case .suspended(let call):
            .suspended(LuaSuspendedHook(call) { result in
                switch result {
                case .success(let value): finished(value)
                case .failure(let error): .failed(HookError(error.description))
                }
            })
        }
    }

    nonisolated(nonsending) func wait() async { await call.wait() }

    func abandon() { call.abandon() }

    func resume() -> (HookOutcome, DHCPPacket)? {
        do {
            switch try call.resume() {
            case .done(let value): return (outcome(.success(value)), call.primary)
            case .suspended: return nil
            }
        } catch {
            return (outcome(.failure(error)), call.primary)
        }
    }
}

/// Lets the Lua-defined database reach the runtime through the engine's executor.
public struct EngineScriptExecutor: ScriptExecutor {
    public let engine: DHCPEngine
    public init(engine: DHCPEngine) { self.engine = engine }
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await engine.perform(body)
    }
}
