@_exported import DHCPModel
import DHCPWire

/// The CSV dialect of `import` / `export`: a header line, then one reservation per line.
/// Fields may be double-quoted (a quote inside is doubled); a field cannot span lines.
enum ReservationCSV {
    static let header = "mac,ip,subnet,serial,hostname"

    static func fields(of line: Substring) throws(DatabaseError) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var atFieldStart = true
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    // Either the closing quote or the first of a doubled one.
                    var lookahead = iterator
                    if lookahead.next() == "\"" {
                        current.append("\"")
                        iterator = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "," {
                fields.append(current)
                current = ""
                atFieldStart = true
                continue
            } else if character == "\"" && atFieldStart {
                quoted = true
            } else {
                current.append(character)
            }
            atFieldStart = false
        }
        if quoted { throw DatabaseError.rejected("unterminated quoted field") }
        fields.append(current)
        return fields
    }

    static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
                ? "\"" + field.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
