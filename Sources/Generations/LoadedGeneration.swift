import Databases
import Scripting

/// One script generation as the daemon keeps it: the runtime, its settings, the database it uses
/// and the scripts' store. The engine's own `Generation` is built from it at install time.
public struct LoadedGeneration: Sendable {
    public var number: Int
    public var runtime: ScriptRuntime
    public var settings: Settings
    public var database: any Database
    public var store: ScriptStore

    public init(number: Int, runtime: ScriptRuntime, settings: Settings, database: any Database, store: ScriptStore) {
        self.number = number
        self.runtime = runtime
        self.settings = settings
        self.database = database
        self.store = store
    }
}
