/// The original's lookup query over `maps` and `subnets` (docs/DEPLOYMENT.md, "The reservation
/// tables"), built once per engine from `EXTRA_MAPS`, `EXTRA_SUBNETS` and
/// `CASE_INSENSITIVE_MACS`.
///
/// One deliberate change: `maps` is LEFT JOINed to `subnets`, so a reservation whose
/// `(subnet, serial)` does not exist is reported as a malformed record instead of silently
/// looking like an unknown client.
public struct DefinitionQuery: Sendable, Equatable {
    public enum Dialect: Sendable { case sqlite, postgresql }

    public let extraMaps: [String]
    public let extraSubnets: [String]
    public let caseInsensitiveMACs: Bool

    /// Column positions in every dialect's result.
    enum Column {
        static let ip = 0, hostname = 1, gateway = 2, subnetMask = 3, broadcastAddress = 4
        static let domainName = 5, domainNameServers = 6, ntpServers = 7, leaseTime = 8
        static let subnet = 9, serial = 10, firstExtra = 11
    }

    public init(extraMaps: [String] = [], extraSubnets: [String] = [], caseInsensitiveMACs: Bool = false) throws {
        for (setting, columns) in [("EXTRA_MAPS", extraMaps), ("EXTRA_SUBNETS", extraSubnets)] {
            for column in columns where !Self.isIdentifier(column) {
                throw DatabaseError.configuration(
                    "\(setting) entry '\(column)' is not a plain column name (letters, digits and '_', not starting with a digit)")
            }
        }
        self.extraMaps = extraMaps
        self.extraSubnets = extraSubnets
        self.caseInsensitiveMACs = caseInsensitiveMACs
    }

    /// The `extra` keys, in result-column order after `Column.firstExtra`.
    var extraKeys: [String] { extraMaps.map { "maps.\($0)" } + extraSubnets.map { "subnets.\($0)" } }

    /// The lookup for text columns. The SQLite engine runs this one; the PostgreSQL engine runs
    /// `postgresSQL(_:)`, built for the column types it finds (`.postgresql` here is the same
    /// statement for an all-text schema).
    public func sql(_ dialect: Dialect) -> String {
        let extras = extraMaps.map { ", m.\($0)" }.joined() + extraSubnets.map { ", s.\($0)" }.joined()
        let match: String
        switch (dialect, caseInsensitiveMACs) {
        case (.sqlite, false): match = "m.mac = ?"
        // COLLATE NOCASE can use the NOCASE index the reservations tool creates; LOWER() cannot.
        case (.sqlite, true): match = "m.mac = ? COLLATE NOCASE"
        case (.postgresql, false): match = "m.mac = $1"
        case (.postgresql, true): match = "lower(m.mac) = $1"
        }
        return "SELECT m.ip, m.hostname, s.gateway, s.subnet_mask, s.broadcast_address, s.domain_name, "
            + "s.domain_name_servers, s.ntp_servers, s.lease_time, m.subnet, m.serial\(extras) "
            + "FROM maps m LEFT JOIN subnets s ON m.subnet = s.subnet AND m.serial = s.serial "
            + "WHERE \(match) LIMIT 1"
    }

    /// The columns the lookup reads from each table, base columns first.
    var mapsColumns: [String] { ["mac", "ip", "hostname", "subnet", "serial"] + extraMaps }
    var subnetsColumns: [String] {
        ["subnet", "serial", "gateway", "subnet_mask", "broadcast_address", "domain_name", "domain_name_servers",
         "ntp_servers", "lease_time"] + extraSubnets
    }

    /// The PostgreSQL lookup for the column types the site's tables have (`PostgresColumnTypes`,
    /// learned from the catalog once per pool, docs/DEPLOYMENT.md "The reservation tables").
    ///
    /// The MAC is compared in the column's own type (the parameter is sent or prepared untyped,
    /// so PostgreSQL gives it the column's type, as it did the original's literals), so the
    /// column's index serves: `CHAR(17)` against a `text` parameter would compare as text and
    /// skip it. MACADDR and MACADDR8 compare case-blind, so `CASE_INSENSITIVE_MACS` needs no
    /// `lower()` there (and `lower(macaddr)` does not exist). Values come back in a form the row reader knows: INET
    /// addresses through `host()` (their `::text` carries a "/32"), other types as `::text`.
    /// `allRows`: every reservation, with `maps.mac` as text after the extras (`db check`).
    func postgresSQL(_ types: PostgresColumnTypes, allRows: Bool = false) -> String {
        func read(_ table: String, _ alias: String, _ column: String, _ kind: PostgresColumnTypes.Read) -> String {
            let name = "\(alias).\(column)"
            let type = types.type(table, column)
            switch kind {
            case .address where type == "inet" || type == "cidr": return "host(\(name))"
            case .integer where PostgresColumnTypes.integers.contains(type): return name
            case .extra where PostgresColumnTypes.extrasAsIs.contains(type): return name
            // INET's own text form ("192.0.2.10", "192.0.2.0/24"): abbrev() drops only a full
            // mask, as the type's output does; ::text always writes it.
            case .extra where type == "inet": return "abbrev(\(name))"
            default: return PostgresColumnTypes.texts.contains(type) ? name : "\(name)::text"
            }
        }
        let macType = types.type("maps", "mac")
        let match: String
        if !caseInsensitiveMACs || macType == "macaddr" || macType == "macaddr8" {
            match = "m.mac = $1"
        } else if PostgresColumnTypes.texts.contains(macType) {
            match = "lower(m.mac) = $1" // the original's lower(mac) index serves this
        } else {
            match = "lower(m.mac::text) = $1"
        }
        let columns = [
            read("maps", "m", "ip", .address), read("maps", "m", "hostname", .text),
            read("subnets", "s", "gateway", .address), read("subnets", "s", "subnet_mask", .address),
            read("subnets", "s", "broadcast_address", .address), read("subnets", "s", "domain_name", .text),
            read("subnets", "s", "domain_name_servers", .text), read("subnets", "s", "ntp_servers", .text),
            read("subnets", "s", "lease_time", .integer), read("maps", "m", "subnet", .text),
            read("maps", "m", "serial", .integer),
        ] + extraMaps.map { read("maps", "m", $0, .extra) } + extraSubnets.map { read("subnets", "s", $0, .extra) }
        let from = "FROM maps m LEFT JOIN subnets s ON m.subnet = s.subnet AND m.serial = s.serial"
        if allRows { return "SELECT \(columns.joined(separator: ", ")), m.mac::text \(from)" }
        return "SELECT \(columns.joined(separator: ", ")) \(from) WHERE \(match) LIMIT 1"
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic || first == "_",
              first.isASCII else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}


/// The types of the columns `DefinitionQuery` reads, as PostgreSQL's catalog names them
/// (`pg_type.typname` of the column's base type: "bpchar", "varchar", "text", "macaddr", "inet"...).
public struct PostgresColumnTypes: Sendable, Equatable {
    /// "table.column" -> type name.
    public var types: [String: String]

    public init(_ types: [String: String]) { self.types = types }

    enum Read { case address, text, integer, extra }

    /// Types read as they are: text comes back as text, integers as integers.
    static let texts: Set<String> = ["text", "varchar", "bpchar", "name"]
    static let integers: Set<String> = ["int2", "int4", "int8"]
    /// Extra columns keep their type where `ExtraValue` has one; the rest are read as text.
    static let extrasAsIs: Set<String> = texts.union(integers).union(["float4", "float8", "bool"])

    func type(_ table: String, _ column: String) -> String { types["\(table).\(column)"] ?? "text" }
}
