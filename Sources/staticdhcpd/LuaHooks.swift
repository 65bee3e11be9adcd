import Databases
import DHCPWire
import Engine
import Scripting

/// The engine's hook protocol over one Lua runtime (one script generation), plus the
/// observers that want every statistics record (the dashboard's telemetry).
final class LuaHooks: DHCPHooks {
    let runtime: ScriptRuntime
    let telemetry: Telemetry
    private let presence: HookPresence

    init(runtime: ScriptRuntime, telemetry: Telemetry) {
        self.runtime = runtime
        self.telemetry = telemetry
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
        telemetry.record(statistics)
        guard runtime.hasStatisticsHandlers else { return }
        runtime.deliverStatistics(ScriptStatistics(
            sourceIP: statistics.sourceIP, sourcePort: Int(statistics.sourcePort), mac: statistics.mac,
            ip: statistics.ip, subnet: statistics.subnet, serial: statistics.serial, method: statistics.method,
            processingTime: statistics.processingTime, processed: statistics.processed,
            port: statistics.mac == nil ? nil : Int(statistics.port)
        ))
    }

    func tick() { runtime.runTickHandlers() }
}

/// Lets the Lua-defined database reach the runtime through the engine's executor.
struct EngineExecutor: ScriptExecutor {
    let engine: DHCPEngine
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await engine.perform(body)
    }
}
