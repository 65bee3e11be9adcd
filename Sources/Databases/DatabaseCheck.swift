import DHCPWire
import Foundation
import Logging

/// What `staticdhcpd db check` found: the configured engine connected to, its tables and columns
/// with their types, the index a lookup uses, row counts, malformed rows and a sample lookup's
/// time. `ok` is whether the daemon will work with it (issue #20; docs/DEPLOYMENT.md "The
/// reservation tables"). The daemon's own lookups never run this: it is a tool for operators.
public struct DatabaseCheck: Sendable, Encodable, Equatable {
    public struct Column: Sendable, Encodable, Equatable {
        public var table: String
        public var column: String
        /// nil: the column does not exist.
        public var type: String?
        public var readable: Bool
    }

    public var engine: String
    public var columns: [Column] = []
    /// The lookup's plan, one line per node (PostgreSQL's EXPLAIN).
    public var plan: [String] = []
    /// Whether an index serves the MAC lookup (nil: not known for this engine).
    public var usesIndex: Bool?
    public var rowCounts: [String: Int] = [:]
    /// One sentence per malformed reservation (at most `malformedLimit`), and how many in all.
    public var malformed: [String] = []
    public var malformedCount = 0
    /// SQLite's journal mode ("wal", "delete"...).
    public var journalMode: String?
    /// One sample lookup, in milliseconds.
    public var sampleLookupMilliseconds: Double?
    /// Why the daemon will not work with this database; empty when it will.
    public var problems: [String] = []
    /// What deserves a look but does not stop the daemon (no index, malformed rows).
    public var warnings: [String] = []

    public var ok: Bool { problems.isEmpty }

    static let malformedLimit = 50

    public init(engine: String) { self.engine = engine }

    /// Checks the engine `configuration` names. PostgreSQL in detail; any other engine by one
    /// sample lookup (which reports its schema errors and outages the same way).
    public static func run(_ configuration: DatabaseConfiguration, logger: Logger) async -> DatabaseCheck {
        var report = DatabaseCheck(engine: configuration.engineDescription)
        do {
            if case .named(let name) = configuration.engine, name == "PostgreSQL" {
                let query = try DefinitionQuery(
                    extraMaps: configuration.extraMaps, extraSubnets: configuration.extraSubnets,
                    caseInsensitiveMACs: configuration.caseInsensitiveMACs)
                // A check that waits longer than DATABASE_TIMEOUT (5 s when unset) reports the time-out.
                let database = try PostgreSQLDatabase(
                    settings: configuration.postgresql, query: query, timeout: configuration.lookupTimeout ?? 5, logger: logger)
                defer { database.shutdown() }
                return await database.check()
            }
            if case .named(let name) = configuration.engine, name == "SQLite", let path = configuration.sqliteFile {
                let query = try DefinitionQuery(
                    extraMaps: configuration.extraMaps, extraSubnets: configuration.extraSubnets,
                    caseInsensitiveMACs: configuration.caseInsensitiveMACs)
                SQLiteDatabase.describe(path: path, query: query, into: &report)
            }
            var plain = configuration
            plain.useCache = false
            let database = try DatabaseFactory.make(plain, logger: logger)
            let started = ContinuousClock.now
            _ = try await database.lookupMAC(MAC(0))
            report.sampleLookupMilliseconds = (ContinuousClock.now - started).milliseconds
        } catch {
            report.problems.append("\(error)")
        }
        return report
    }

    /// The report as JSON for scripts, `ok` included.
    public var json: String {
        struct Wrapped: Encodable {
            let ok: Bool
            let report: DatabaseCheck
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(ok, forKey: .ok)
                try report.encode(to: encoder)
            }
            enum Key: String, CodingKey { case ok }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(Wrapped(ok: ok, report: self)) else { return "{\"ok\": false}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The report as lines for a terminal.
    public var text: String {
        var lines = ["engine: \(engine)"]
        for column in columns {
            let type = column.type ?? "MISSING"
            lines.append("  \(column.table).\(column.column): \(type)\(column.type != nil && !column.readable ? " (no SELECT grant)" : "")")
        }
        for (table, count) in rowCounts.sorted(by: { $0.key < $1.key }) { lines.append("rows in \(table): \(count)") }
        if let journalMode {
            lines.append("journal mode: \(journalMode)")
        }
        if let usesIndex { lines.append("MAC lookup uses an index: \(usesIndex ? "yes" : "NO")") }
        if !plan.isEmpty { lines.append("plan:"); lines += plan.map { "  \($0)" } }
        if let sampleLookupMilliseconds {
            lines.append("sample lookup: \(Double(Int(sampleLookupMilliseconds * 1000)) / 1000) ms")
        }
        if malformedCount > 0 {
            lines.append("malformed reservations: \(malformedCount)")
            lines += malformed.map { "  \($0)" }
        }
        lines += warnings.map { "warning: \($0)" }
        lines += problems.map { "PROBLEM: \($0)" }
        lines.append(ok ? "OK: the daemon will work with this database" : "NOT OK: the daemon will not work with this database")
        return lines.joined(separator: "\n")
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
