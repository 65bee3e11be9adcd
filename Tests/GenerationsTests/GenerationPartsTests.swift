import Databases
import DHCPModel
import Engine
import Foundation
import Generations
import Logging
import Scripting
import Testing

/// How a generation's database and store are built, and kept across a reload.
@Suite struct GenerationPartsTests {
    private let logger = Logger(label: "test")

    /// An engine that only runs jobs (the Lua-defined database is built on it).
    private func engine() -> DHCPEngine {
        DHCPEngine(
            generation: Generation(number: 0, configuration: EngineConfiguration(serverIP: .zero), hooks: NoHooks(), database: NullDatabase()),
            sender: DiscardingSender(), executor: JobThread())
    }

    /// conf.lua serving from SQLite file `name` beside it (created with the reservation tables),
    /// behind a memory cache: the cache is an object, so a kept database is the same object.
    private func sqliteConf(_ name: String, in directory: URL? = nil, _ more: String...) throws -> URL {
        let file = try writeConf(["DATABASE_ENGINE = \"SQLite\"", "SQLITE_FILE = \"\(name)\"", "USE_CACHE = true"] + more, in: directory)
        try Reservations(path: file.deletingLastPathComponent().appendingPathComponent(name).path).initSchema()
        return file
    }

    private func generation(_ file: URL, previous: LoadedGeneration? = nil, on engine: DHCPEngine) async throws -> LoadedGeneration {
        let (runtime, settings) = try load(file)
        let database = try await GenerationParts.makeDatabase(runtime: runtime, settings: settings, engine: engine, previous: previous, logger: logger)
        let store = try await GenerationParts.openStore(settings: settings, configFile: file, previous: previous, logger: logger, takeOwnership: false)
        return LoadedGeneration(number: (previous?.number ?? 0) + 1, runtime: runtime, settings: settings, database: database, store: store)
    }

    @Test func aReloadKeepsTheOpenDatabaseWhileItsSettingsAreTheSame() async throws {
        let engine = engine()
        let file = try sqliteConf("dhcp.sqlite3")
        let directory = file.deletingLastPathComponent()
        let first = try await generation(file, on: engine)
        #expect(first.database is CachingDatabase)
        // The same database under another setting that is not the database's.
        let same = try await generation(try sqliteConf("dhcp.sqlite3", in: directory, "AUTHORITATIVE = true"), previous: first, on: engine)
        #expect(same.database as AnyObject === first.database as AnyObject)
        let moved = try await generation(try sqliteConf("other.sqlite3", in: directory), previous: same, on: engine)
        #expect(moved.database as AnyObject !== first.database as AnyObject)
        #expect(moved.database is CachingDatabase)
    }

    @Test func noDatabaseEngineIsTheNullDatabase() async throws {
        let file = try writeConf([])
        let built = try await generation(file, on: engine())
        #expect(built.database is NullDatabase)
    }

    @Test func aReloadKeepsTheOpenLocalStoreWhileStateDirectoryIsTheSame() async throws {
        let engine = engine()
        let file = try writeConf(["STATE_DIRECTORY = \"state\""])
        let first = try await generation(file, on: engine)
        guard case .local(let open) = first.store else { Issue.record("not a local store"); return }
        #expect(open.directory == file.deletingLastPathComponent().appendingPathComponent("state").path)
        let again = try await generation(file, previous: first, on: engine)
        guard case .local(let kept) = again.store else { Issue.record("not a local store"); return }
        #expect(kept === open)
        _ = try writeConf(["STATE_DIRECTORY = \"elsewhere\""], in: file.deletingLastPathComponent())
        let moved = try await generation(file, previous: again, on: engine)
        guard case .local(let other) = moved.store else { Issue.record("not a local store"); return }
        #expect(other !== open)
        #expect(other.directory.hasSuffix("/elsewhere"))
    }
}

/// Sends nothing: these engines never answer a request.
struct DiscardingSender: ReplySender {
    func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable { "nowhere" }
}
