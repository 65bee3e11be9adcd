import DHCPWire

/// Reads typed settings out of conf.lua's upper-case globals, collecting every problem instead
/// of stopping at the first. Each accessor registers its name as known, which the typo check uses.
struct SettingsReader {
    private(set) var values: [String: ScriptValue]
    private(set) var known: Set<String> = []
    private(set) var problems: [String] = []
    private(set) var warnings: [String] = []

    init(values: [String: ScriptValue]) {
        self.values = values
    }

    mutating func problem(_ key: String, expected: String, found: String) {
        problems.append("\(key): expected \(expected), found \(found)")
    }

    mutating func warn(_ text: String) { warnings.append(text) }

    mutating func fail(_ text: String) { problems.append(text) }

    /// Honours a legacy name: its value moves to `modern` unless `modern` is set too.
    mutating func alias(_ legacy: String, to modern: String) {
        known.insert(legacy)
        guard let value = values[legacy], value != .nil else { return }
        if let current = values[modern], current != .nil {
            warn("\(legacy) is the legacy name of \(modern); both are set, so \(legacy) is ignored")
        } else {
            values[modern] = value
        }
    }

    /// Marks `key` as a known setting without reading it.
    mutating func register(_ key: String) { known.insert(key) }

    func raw(_ key: String) -> ScriptValue { values[key] ?? .nil }

    func isSet(_ key: String) -> Bool { raw(key) != .nil }

    /// A setting of one kind: nil when unset, else what `extract` takes from it; a value of
    /// another kind is a problem (`expected` names the kind) and nil.
    private mutating func typed<T>(_ key: String, expected: String, _ extract: (ScriptValue) -> T?) -> T? {
        known.insert(key)
        let value = raw(key)
        if value == .nil { return nil }
        if let typed = extract(value) { return typed }
        problem(key, expected: expected, found: value.shortDescription)
        return nil
    }

    mutating func bool(_ key: String, _ fallback: Bool) -> Bool {
        typed(key, expected: "a boolean (true or false)") { value in
            if case .bool(let flag) = value { flag } else { nil }
        } ?? fallback
    }

    mutating func optionalInt(_ key: String, range: ClosedRange<Int>? = nil) -> Int? {
        known.insert(key)
        switch raw(key) {
        case .nil: return nil
        case .integer(let value):
            return optionalIntChecked(key, value, range)
        case .number(let value) where value.rounded() == value && abs(value) < 9e15:
            return optionalIntChecked(key, Int(value), range)
        case let other:
            problem(key, expected: range.map { "an integer in \($0.lowerBound)...\($0.upperBound)" } ?? "an integer",
                    found: other.shortDescription)
            return nil
        }
    }

    private mutating func optionalIntChecked(_ key: String, _ value: Int, _ range: ClosedRange<Int>?) -> Int? {
        if let range, !range.contains(value) {
            problem(key, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", found: "\(value)")
            return nil
        }
        return value
    }

    mutating func int(_ key: String, _ fallback: Int, range: ClosedRange<Int>? = nil) -> Int {
        optionalInt(key, range: range) ?? fallback
    }

    mutating func port(_ key: String, _ fallback: Int) -> Int { int(key, fallback, range: 1...65535) }

    mutating func optionalNumber(_ key: String, minimum: Double = -.infinity) -> Double? {
        known.insert(key)
        let value: Double
        switch raw(key) {
        case .nil: return nil
        case .integer(let integer): value = Double(integer)
        case .number(let number): value = number
        case let other:
            problem(key, expected: "a number", found: other.shortDescription)
            return nil
        }
        guard value >= minimum, value.isFinite else {
            problem(key, expected: "a number >= \(minimum)", found: "\(value)")
            return nil
        }
        return value
    }

    mutating func optionalString(_ key: String) -> String? {
        typed(key, expected: "a string") { value in
            if case .string(let text) = value { text } else { nil }
        }
    }

    mutating func string(_ key: String, _ fallback: String) -> String { optionalString(key) ?? fallback }

    /// A string that must be one of `choices` (case-sensitive, as in the original).
    mutating func choice(_ key: String, _ fallback: String, _ choices: [String]) -> String {
        let value = string(key, fallback)
        guard choices.contains(value) else {
            problem(key, expected: "one of " + choices.map { "\"\($0)\"" }.joined(separator: ", "), found: "\"\(value)\"")
            return fallback
        }
        return value
    }

    mutating func requiredString(_ key: String, because reason: String) -> String {
        if let value = optionalString(key) { return value }
        if !isSet(key) { fail("\(key): required \(reason), but not set (expected a string)") }
        return ""
    }

    mutating func optionalIPv4(_ key: String, allowZero: Bool = true) -> IPv4? {
        guard let text = optionalString(key) else { return nil }
        guard let address = IPv4(text) else {
            problem(key, expected: "an IPv4 address like \"192.0.2.1\"", found: "\"\(text)\"")
            return nil
        }
        if !allowZero, address.isZero {
            problem(key, expected: "a concrete IPv4 address (not 0.0.0.0)", found: "\"\(text)\"")
            return nil
        }
        return address
    }

    mutating func stringList(_ key: String) -> [String]? {
        known.insert(key)
        switch raw(key) {
        case .nil: return nil
        case .table(let array, let fields) where fields.isEmpty:
            var result: [String] = []
            for (index, item) in array.enumerated() {
                guard case .string(let text) = item else {
                    problem(key, expected: "a list of strings", found: "\(item.shortDescription) at position \(index + 1)")
                    return nil
                }
                result.append(text)
            }
            return result
        case let other:
            problem(key, expected: "a list of strings", found: other.shortDescription)
            return nil
        }
    }

    mutating func ipv4List(_ key: String) -> [IPv4] {
        guard let texts = stringList(key) else { return [] }
        var result: [IPv4] = []
        for text in texts {
            guard let address = IPv4(text) else {
                problem(key, expected: "a list of IPv4 addresses", found: "\"\(text)\"")
                continue
            }
            result.append(address)
        }
        return result
    }

    /// Every upper-case global that no accessor asked for, split into likely typos of known names
    /// (reported as problems) and the rest (kept for extensions and the script's own use).
    mutating func checkUnknownNames() -> [String: ScriptValue] {
        var others: [String: ScriptValue] = [:]
        for (name, value) in values where !known.contains(name) {
            if name.hasPrefix("X_") {
                others[name] = value
                continue
            }
            let threshold = typoThreshold(name)
            var nearest: (String, Int)? = nil
            for candidate in known {
                let distance = editDistance(name, candidate, limit: 3)
                guard distance <= threshold else { continue }
                if let best = nearest, best.1 < distance || (best.1 == distance && best.0 < candidate) { continue }
                nearest = (candidate, distance)
            }
            if let nearest {
                fail("\(name): unknown setting; did you mean \(nearest.0)? (found \(value.shortDescription))")
            } else {
                others[name] = value
            }
        }
        return others
    }

    private func typoThreshold(_ name: String) -> Int { name.count <= 5 ? 1 : 2 }
}

/// Levenshtein distance, giving up (returning `limit + 1`) once every path exceeds `limit`.
func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if abs(a.count - b.count) > limit { return limit + 1 }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        current[0] = i
        var rowMinimum = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            rowMinimum = min(rowMinimum, current[j])
        }
        if rowMinimum > limit { return limit + 1 }
        swap(&previous, &current)
    }
    return a.isEmpty ? b.count : previous[b.count]
}
