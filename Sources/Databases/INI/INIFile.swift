/// A parsed INI file in the dialect of Python's configparser as the original uses it:
/// `[section]` headers, `key = value` or `key: value` (split at the first `=` or `:`), keys
/// case-folded, values verbatim apart from surrounding spaces (quotes are kept), whole-line
/// comments starting with `;` or `#`. Every entry remembers its line for error messages.
struct INIFile {
    struct Entry {
        var key: String
        var value: String
        var line: Int
    }

    struct Section {
        var name: String
        var line: Int
        var entries: [Entry] = []

        func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }
    }

    var sections: [Section] = []

    init(text: String, path: String) throws {
        var seenSections: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingCharacters()
            if line.isEmpty || line.hasPrefix(";") || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw DatabaseError.badFile(path: path, line: number, reason: "malformed section header '\(line)'")
                }
                let name = String(line.dropFirst().dropLast())
                if let first = seenSections[name] {
                    throw DatabaseError.badFile(
                        path: path, line: number, reason: "section [\(name)] already appeared on line \(first)")
                }
                seenSections[name] = number
                sections.append(Section(name: name, line: number))
                continue
            }
            guard !sections.isEmpty else {
                throw DatabaseError.badFile(path: path, line: number, reason: "'\(line)' comes before any [section] header")
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw DatabaseError.badFile(path: path, line: number, reason: "'\(line)' is not 'key = value'")
            }
            let key = line[..<separator].trimmingCharacters().lowercased()
            let value = line[line.index(after: separator)...].trimmingCharacters()
            guard !key.isEmpty else {
                throw DatabaseError.badFile(path: path, line: number, reason: "'\(line)' has no key before '\(line[separator])'")
            }
            if let previous = sections[sections.count - 1].entry(key) {
                throw DatabaseError.badFile(
                    path: path, line: number,
                    reason: "key '\(key)' already set on line \(previous.line) in [\(sections[sections.count - 1].name)]")
            }
            sections[sections.count - 1].entries.append(Entry(key: key, value: value, line: number))
        }
    }
}
