import DaemonLogging
import Databases
import DHCPWire
import Engine
import Logging
import Scripting

/// The engine's hook protocol over one Lua runtime (one script generation), plus the
/// observers that want every statistics record (the dashboard's telemetry).
final class LuaHooks: DHCPHooks {
    let runtime: ScriptRuntime
    /// Nil when no dashboard runs: then nobody reads it, and each packet saves a dictionary update.
    let telemetry: Telemetry?
    let logTap: LogTap
    private let presence: HookPresence

    init(runtime: ScriptRuntime, telemetry: Telemetry?, logTap: LogTap) {
        self.runtime = runtime
        self.telemetry = telemetry
        self.logTap = logTap
        presence = runtime.hooks
    }

    var hasFilterPacket: Bool { presence.filterPacket }
    var hasHandleUnknownMAC: Bool { presence.handleUnknownMAC }
    var hasLoadDHCPPacket: Bool { presence.loadDHCPPacket }

    private func context(_ context: RequestContext) -> HookContext {
        HookContext(method: context.method, mac: context.mac, clientIP: context.clientIP,
                    relayIP: context.relayIP, port: Int(context.port), requestID: context.requestID)
    }

    func filterPacket(_ packet: inout DHCPPacket, _ context: RequestContext) -> Engine.FilterVerdict {
        switch runtime.filterPacket(&packet, self.context(context)) {
        case .accept: .accept
        case .drop: .drop
        case .blocklist: .blocklist
        }
    }

    func handleUnknownMAC(_ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> [Definition] {
        do { return try runtime.handleUnknownMAC(&packet, self.context(context)) } catch { throw HookError(error.description) }
    }

    func filterRetrievedDefinitions(_ definitions: [Definition], _ packet: inout DHCPPacket, _ context: RequestContext) throws(HookError) -> Definition? {
        do {
            return try runtime.filterRetrievedDefinitions(definitions, &packet, self.context(context))
        } catch {
            throw HookError(error.description)
        }
    }

    func loadDHCPPacket(_ response: inout DHCPPacket, _ context: RequestContext, definition: Definition?, source: DHCPPacket) throws(HookError) -> Bool {
        do {
            return try runtime.loadDHCPPacket(&response, self.context(context), definition: definition, source: source)
        } catch {
            throw HookError(error.description)
        }
    }

    func endRequest(_ requestID: UInt64) { runtime.endRequest(requestID) }

    func deliver(_ statistics: Statistics) {
        telemetry?.record(statistics)
        guard runtime.hasStatisticsHandlers else { return }
        runtime.deliverStatistics(ScriptStatistics(
            sourceIP: statistics.sourceIP, sourcePort: Int(statistics.sourcePort), mac: statistics.mac,
            ip: statistics.ip, subnet: statistics.subnet, serial: statistics.serial, method: statistics.method,
            processingTime: statistics.processingTime, processed: statistics.processed,
            port: statistics.mac == nil ? nil : Int(statistics.port)
        ))
    }

    func tick() {
        runtime.runTickHandlers()
        deliverLogRecords()
    }

    /// Hands the records collected since the last tick to conf.lua's log handlers, and tells the
    /// tap which level they want now (handlers may come and go).
    private func deliverLogRecords() {
        let wanted = runtime.logHandlerMinimumLevel
        logTap.setLevel(wanted.map(\.swiftLogLevel))
        guard wanted != nil else { return }
        logTap.drain { records, dropped in
            var converted = records.map { record in
                ScriptLogRecord(time: record.time.timeIntervalSince1970, level: ScriptLogLevel(record.level),
                                logger: record.logger, message: record.message)
            }
            if dropped > 0 {
                converted.insert(ScriptLogRecord(time: converted.first?.time ?? 0, level: .warning, logger: "main",
                    message: "\(dropped) log records were dropped before reaching the log handlers"), at: 0)
            }
            runtime.deliverLogRecords(converted)
        }
    }
}

/// Lets the Lua-defined database reach the runtime through the engine's executor.
struct EngineExecutor: ScriptExecutor {
    let engine: DHCPEngine
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await engine.perform(body)
    }
}

extension ScriptLogLevel {
    init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
