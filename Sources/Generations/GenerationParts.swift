import Databases
import Engine
import Foundation
import Logging
import Scripting
import ScriptedHooks

/// The database and the scripts' store a generation uses, built from its settings: shared by the
/// daemon (`Server`) and `staticdhcpd explain`, so explain asks exactly the database and store
/// the daemon would.
public enum GenerationParts {
    /// The database `settings` name; a reload keeps `previous` when its settings are unchanged.
    /// A Lua `DATABASE_ENGINE` function is built on `engine`'s executor, where every Lua call runs.
    public static func makeDatabase(
        runtime: ScriptRuntime, settings: Settings, engine: DHCPEngine, previous: LoadedGeneration?, logger: Logger,
        databaseLogger: Logger = Logger(label: "databases")
    ) async throws -> any Database {
        if let previous, settings.sameDatabase(as: previous.settings) {
            return previous.database
        }
        var custom: (any Database)?
        if settings.databaseEngine == .luaFunction {
            let executor = EngineScriptExecutor(engine: engine)
            custom = try await engine.perform { try runtime.makeLuaDatabase(executor: executor) }
        } else if settings.databaseEngine == .none {
            logger.warning("DATABASE_ENGINE is nil (or unset): no database; every client is unknown unless handleUnknownMAC answers for it")
        }
        return try DatabaseFactory.make(settings.databaseConfiguration(custom: custom), logger: databaseLogger)
    }

    /// The scripts' store: a file in STATE_DIRECTORY, or the PostgreSQL store every daemon of the
    /// site shares. A reload keeps the open one when its settings are unchanged. A shared store
    /// that cannot be reached is not a reason to stop serving (static clients need no store): it
    /// is logged and set up when it comes back; one written by a newer daemon is refused.
    /// `takeOwnership` gives a new local store's file to `UID`/`GID` (the daemon, not explain).
    public static func openStore(
        settings: Settings, configFile: URL, previous: LoadedGeneration?, logger: Logger, takeOwnership: Bool = true
    ) async throws -> ScriptStore {
        if settings.storeEngine == "PostgreSQL" {
            let wanted = settings.databaseConfiguration().postgresql
            if case .remote(let open)? = previous?.store, open.settings == wanted { return .remote(open) }
            let store = try PostgreSQLStore(settings: wanted, timeout: settings.databaseTimeout, logger: Logger(label: "store"))
            do {
                try await store.prepare()
                logger.info("Script store: \(store.location)")
            } catch where error.isNewerSchema {
                throw error
            } catch {
                logger.critical("Script store \(store.location) is unreachable (\(error)); store calls fail until it is back, static clients are served meanwhile")
            }
            return .remote(store)
        }
        let directory = settings.resolvedStateDirectory(configFile: configFile)
        if case .local(let open)? = previous?.store, open.directory == directory { return .local(open) }
        let store = try KeyValueStore(directory: directory)
        if takeOwnership { store.chown(uid: settings.uid, gid: settings.gid) }
        logger.info("Script store: \(store.path)")
        return .local(store)
    }
}
