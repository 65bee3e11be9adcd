import Databases
import DHCPWire
@testable import Engine
import Logging
import Synchronization
import Testing

/// Records what the engine logs, level and message.
final class CapturedLog: Sendable {
    let records = Mutex<[(Logger.Level, String)]>([])

    var logger: Logger {
        Logger(label: "engine-test") { _ in Handler(log: self) }
    }

    func count(_ level: Logger.Level, containing text: String) -> Int {
        records.withLock { $0.filter { $0.0 == level && $0.1.contains(text) }.count }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.records.withLock { $0.append((event.level, "\(event.message)")) }
        }
    }
}

/// A database that rejects every lookup with one error.
private struct FailingDatabase: Database {
    let error: DatabaseError
    var engineName: String { "PostgreSQL" }
    func lookupMAC(_ mac: MAC) async throws -> [Definition] { throw error }
    func reinitialise() async throws {}
}

@Suite struct SchemaErrorLoggingTests {
    private func engine(_ error: DatabaseError, log: CapturedLog) -> (DHCPEngine, Generation) {
        let generation = Generation(
            number: 1, configuration: EngineConfiguration(serverIP: serverIP, allowDHCPRelays: true),
            hooks: ClosureHooks(), database: FailingDatabase(error: error))
        return (DHCPEngine(generation: generation, sender: CollectingSender(), logger: log.logger, executor: JobThread()), generation)
    }

    private func discover(_ engine: DHCPEngine, _ n: UInt64) async {
        let packet = clientPacket(1, mac: MAC(0x0200_0000_0000 + n))
        await engine.handle(Datagram(bytes: packet.encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
    }

    @Test func aSchemaErrorIsLoggedOnceAtCriticalPerGeneration() async throws {
        let log = CapturedLog()
        let error = DatabaseError.schema(engine: "PostgreSQL", reason: "column 'maps.hostname' does not exist")
        let (engine, generation) = engine(error, log: log)
        for n: UInt64 in 1...5 { await discover(engine, n) }
        #expect(log.count(.critical, containing: "column 'maps.hostname' does not exist") == 1)
        #expect(log.count(.error, containing: "database") == 0)
        #expect(await engine.counters.databaseErrors == 5)
        // A reload logs it again, once.
        await engine.install(Generation(
            number: 2, configuration: generation.configuration, hooks: ClosureHooks(), database: generation.database))
        for n: UInt64 in 6...8 { await discover(engine, n) }
        #expect(log.count(.critical, containing: "column 'maps.hostname' does not exist") == 2)
    }

    @Test func anOutageIsStillLoggedPerPacketAsUnavailable() async throws {
        let log = CapturedLog()
        let (engine, _) = engine(.unavailable(engine: "PostgreSQL", reason: "connection refused"), log: log)
        for n: UInt64 in 1...3 { await discover(engine, n) }
        #expect(log.count(.error, containing: "PostgreSQL database unavailable: connection refused") == 3)
        #expect(log.count(.critical, containing: "") == 0)
    }
}
