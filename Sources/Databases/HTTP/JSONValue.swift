import Foundation

/// Any JSON value, keeping the distinctions JSONSerialization blurs on Linux (true vs 1,
/// 3600 vs 3600.5), so a bad field can be reported for what it is.
enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    init(_ extra: ExtraValue) {
        switch extra {
        case .string(let value): self = .string(value)
        case .integer(let value): self = .integer(value)
        case .double(let value): self = .double(value)
        case .bool(let value): self = .bool(value)
        case .list(let values): self = .array(values.map(JSONValue.init))
        case .table(let values): self = .object(values.mapValues(JSONValue.init))
        }
    }

    /// As definition metadata; JSON null has no counterpart and is left out.
    var extraValue: ExtraValue? {
        switch self {
        case .null: nil
        case .bool(let value): .bool(value)
        case .integer(let value): .integer(value)
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        case .array(let values): .list(values.compactMap(\.extraValue))
        case .object(let values): .table(values.compactMapValues(\.extraValue))
        }
    }

    /// What kind of value this is, for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as it appeared, shortened, for error messages.
    var shown: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let value): text = String(value)
        case .integer(let value): text = String(value)
        case .double(let value): text = String(value)
        case .string(let value): text = value
        case .array, .object:
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            text = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? kind
        }
        return text.count > 60 ? String(text.prefix(60)) + "..." : text
    }
}
