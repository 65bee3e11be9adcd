// The values this module shares with Engine, Web and the log sinks (RequestContext, FilterVerdict,
// Statistics, LogRecord, LogLevel, the web registrations) are DHCPModel's; re-exported because
// they are in this module's public signatures.
@_exported import DHCPModel
import DHCPWire
import Logging

/// Every failure the scripting layer reports. `problems` holds one sentence per problem (settings
/// validation reports all of them at once); `description` joins them.
public struct ScriptError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// conf.lua was not found where it was looked for.
        case configNotFound
        /// conf.lua (or a chunk) does not compile.
        case syntax
        /// A Lua error while running script code (with its traceback).
        case runtime
        /// The instruction budget or the time limit ran out.
        case limit
        /// The Lua state's memory cap was reached.
        case memory
        /// Settings are missing, wrongly typed, misspelt or out of range.
        case settings
        /// A hook returned something the server cannot use.
        case badResult
    }

    public var kind: Kind
    public var problems: [String]

    public init(_ kind: Kind, _ problems: [String]) {
        self.kind = kind
        self.problems = problems
    }

    public init(_ kind: Kind, _ problem: String) {
        self.init(kind, [problem])
    }

    public var description: String { problems.joined(separator: "\n") }
}

/// Where the runtime sends log records: the script's `logger.*`/`writeLog`, and its own reports of
/// hook errors (logger name `"conf"` for scripts, `"scripting"` for the runtime).
public protocol ScriptLog: Sendable {
    func log(_ level: LogLevel, logger: String, _ message: String)
}

/// Sends script log records to a swift-log `Logger`, with the script's logger name as metadata.
public struct SwiftLogScriptLog: ScriptLog {
    public let base: Logger

    public init(_ base: Logger) { self.base = base }

    public func log(_ level: LogLevel, logger: String, _ message: String) {
        base.log(level: level.swiftLogLevel, "\(message)", metadata: ["logger": "\(logger)"])
    }
}

/// Calls a closure for every record (handy for tests and for the executable's own sinks).
public struct ClosureScriptLog: ScriptLog {
    let sink: @Sendable (LogLevel, String, String) -> Void

    public init(_ sink: @escaping @Sendable (LogLevel, String, String) -> Void) { self.sink = sink }

    public func log(_ level: LogLevel, logger: String, _ message: String) { sink(level, logger, message) }
}

/// The budgets applied to every call into Lua. The constructor's limits govern conf.lua's top
/// level; once settings are read, `LUA_INSTRUCTION_LIMIT` / `LUA_TIME_LIMIT` / `LUA_MEMORY_LIMIT`
/// replace them for hooks and callbacks.
public struct ScriptLimits: Sendable, Equatable {
    /// VM instructions per call; 0 = unlimited.
    public var instructions: Int
    /// Wall-clock seconds per call; 0 = unlimited.
    public var seconds: Double
    /// Bytes the whole Lua state may hold; 0 = unlimited.
    public var memoryBytes: Int

    public init(instructions: Int, seconds: Double, memoryBytes: Int) {
        self.instructions = instructions
        self.seconds = seconds
        self.memoryBytes = memoryBytes
    }

    /// 10 million instructions (a few tens of milliseconds), 1 s, 64 MiB.
    public static let `default` = ScriptLimits(instructions: 10_000_000, seconds: 1.0, memoryBytes: 64 << 20)
}

/// Which optional hooks conf.lua defines, so the engine skips absent ones at no cost.
public struct HookPresence: Sendable, Equatable {
    public var initialise = false
    public var filterPacket = false
    public var handleUnknownMAC = false
    public var filterRetrievedDefinitions = false
    public var loadDHCPPacket = false

    public init() {}

    public static let names = ["init", "filterPacket", "handleUnknownMAC", "filterRetrievedDefinitions", "loadDHCPPacket"]
}
