/// Every error the Databases module throws. Each carries a sentence naming what was wrong, so a
/// log line or a startup error can be read without the source at hand.
public enum DatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// conf.lua asked for something the module cannot build (unknown engine, missing setting...).
    case configuration(String)
    /// The backend could not be reached or answered with an error; the lookup is dropped.
    case unavailable(engine: String, reason: String)
    /// The backend answered, but rejects the lookup itself: a table or column that does not exist,
    /// a column type the lookup cannot use, no SELECT privilege. A configuration error of the
    /// site's database, not an outage: every lookup fails the same way until the schema, the
    /// grants or conf.lua change, so the engine logs it once per generation at CRITICAL
    /// (docs/DEPLOYMENT.md, "The reservation tables"). `reason` names the table, the column and
    /// the fix.
    case schema(engine: String, reason: String)
    /// The backend did not answer within `DATABASE_TIMEOUT` seconds.
    case timeout(engine: String, seconds: Double)
    /// A stored record cannot become a Definition: names the MAC, the column and the value.
    case malformedRecord(mac: String, column: String, value: String, reason: String)
    /// A remote service (the HTTP engine's) answered with something that is not a definition:
    /// names the service and exactly what was wrong with the answer.
    case badAnswer(engine: String, source: String, reason: String)
    /// A data file (INI, CSV) is wrong at a given line.
    case badFile(path: String, line: Int, reason: String)
    /// The reservations tool refused an edit (duplicate, unknown subnet, bad MAC...).
    case rejected(String)

    public var description: String {
        switch self {
        case .configuration(let text):
            "database configuration: \(text)"
        case .unavailable(let engine, let reason):
            "\(engine) database unavailable: \(reason)"
        case .schema(let engine, let reason):
            "\(engine) database rejects the lookup (a configuration error, not an outage): \(reason)"
        case .timeout(let engine, let seconds):
            "\(engine) database did not answer within \(Self.format(seconds)) s (DATABASE_TIMEOUT)"
        case .malformedRecord(let mac, let column, let value, let reason):
            "malformed record for \(mac): column '\(column)' holds '\(value)': \(reason)"
        case .badAnswer(let engine, let source, let reason):
            "\(engine) database at \(source) answered badly: \(reason)"
        case .badFile(let path, let line, let reason):
            "\(path), line \(line): \(reason)"
        case .rejected(let text):
            text
        }
    }

    /// True for `.schema`: the same error will come back on every lookup until someone fixes
    /// the database or conf.lua.
    public var isSchemaError: Bool {
        if case .schema = self { return true }
        return false
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
