/// Every error the Databases module throws. Each carries a sentence naming what was wrong, so a
/// log line or a startup error can be read without the source at hand.
public enum DatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// conf.lua asked for something the module cannot build (unknown engine, missing setting...).
    case configuration(String)
    /// The backend could not be reached or answered with an error; the lookup is dropped.
    case unavailable(engine: String, reason: String)
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

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
