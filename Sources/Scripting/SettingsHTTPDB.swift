import Databases

extension Settings {
    /// The names the HTTP engine reads; any other `X_HTTPDB_*` global is reported as a likely typo.
    static let httpdbSettingNames = [
        "X_HTTPDB_URI", "X_HTTPDB_HEADERS", "X_HTTPDB_PARAMETERS", "X_HTTPDB_PARAMETER_KEY_MAC", "X_HTTPDB_POST",
        "X_HTTPDB_DEFAULT_NAME_SERVERS", "X_HTTPDB_DEFAULT_LEASE_TIME", "X_HTTPDB_DEFAULT_SERIAL",
        "X_HTTPDB_CONCURRENCY_LIMIT",
    ]

    /// `X_HTTPDB_*` (early-bind settings of the original's httpdb extension, built in here).
    /// Types are checked whatever the engine; the values themselves (URI scheme, header names,
    /// address lists...) are checked by the engine's own rules when `DATABASE_ENGINE` is "HTTP".
    static func readHTTPDB(_ r: inout SettingsReader, _ s: inout Settings) {
        let isHTTP = s.databaseEngine == .named("HTTP")
        var h = DatabaseConfiguration.HTTP()
        h.uri = isHTTP
            ? r.requiredString("X_HTTPDB_URI", because: "when DATABASE_ENGINE is \"HTTP\"")
            : r.optionalString("X_HTTPDB_URI")
        h.headers = stringTable(&r, "X_HTTPDB_HEADERS")
        h.parameters = parameterTable(&r, "X_HTTPDB_PARAMETERS")
        h.macKey = r.string("X_HTTPDB_PARAMETER_KEY_MAC", h.macKey)
        h.post = r.bool("X_HTTPDB_POST", h.post)
        h.defaultNameServers = nameServers(&r, "X_HTTPDB_DEFAULT_NAME_SERVERS")
        h.defaultLeaseTime = r.int("X_HTTPDB_DEFAULT_LEASE_TIME", h.defaultLeaseTime, range: 0...Int(UInt32.max))
        h.defaultSerial = r.int("X_HTTPDB_DEFAULT_SERIAL", h.defaultSerial)
        h.concurrencyLimit = r.optionalInt("X_HTTPDB_CONCURRENCY_LIMIT", range: 1...1_000_000)
        s.httpdb = h

        for name in r.values.keys where name.hasPrefix("X_HTTPDB_") && !httpdbSettingNames.contains(name) {
            let nearest = httpdbSettingNames.min { editDistance(name, $0, limit: 6) < editDistance(name, $1, limit: 6) }
            r.fail("\(name): not a setting of the HTTP engine" + (nearest.map { "; did you mean \($0)?" } ?? ""))
        }
        guard isHTTP, r.problems.allSatisfy({ !$0.hasPrefix("X_HTTPDB_") }) else { return }
        do {
            try HTTPDatabase.check(h)
        } catch let DatabaseError.configuration(text) {
            r.fail(text)
        } catch {
            r.fail("X_HTTPDB_*: \(error)")
        }
    }

    /// A table of name = "string" pairs.
    private static func stringTable(_ r: inout SettingsReader, _ key: String) -> [String: String] {
        nameTable(&r, key, expected: "a table of name = \"string\" pairs", expectedValue: "a table of name = \"string\" pairs") { value in
            if case .string(let text) = value { text } else { nil }
        }
    }

    /// A table of name = value pairs; values are strings, numbers, booleans or (POST only) tables.
    private static func parameterTable(_ r: inout SettingsReader, _ key: String) -> [String: ExtraValue] {
        nameTable(&r, key, expected: "a table of name = value pairs",
                  expectedValue: "a table of name = value pairs (strings, numbers, booleans, tables)") { $0.extraValue }
    }

    /// A table of name = value pairs (empty when unset), each value taken by `convert`: a value it
    /// refuses is a problem (`expectedValue`) and left out; anything but such a table is a problem
    /// (`expected`) and no pairs.
    private static func nameTable<Value>(
        _ r: inout SettingsReader, _ key: String, expected: String, expectedValue: String, _ convert: (ScriptValue) -> Value?
    ) -> [String: Value] {
        r.register(key)
        switch r.raw(key) {
        case .nil:
            return [:]
        case .table(let array, let fields) where array.isEmpty:
            var result: [String: Value] = [:]
            for (name, value) in fields {
                guard let converted = convert(value) else {
                    r.problem(key, expected: expectedValue, found: "\(value.shortDescription) at '\(name)'")
                    continue
                }
                result[name] = converted
            }
            return result
        case let other:
            r.problem(key, expected: expected, found: other.shortDescription)
            return [:]
        }
    }

    /// A comma-separated string (as in the original) or a list of address strings.
    private static func nameServers(_ r: inout SettingsReader, _ key: String) -> String {
        if case .table = r.raw(key) {
            return (r.stringList(key) ?? []).joined(separator: ",")
        }
        return r.string(key, "")
    }
}
