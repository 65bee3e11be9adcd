/// The spec's lookup query (§4.3), built once per engine from `EXTRA_MAPS`, `EXTRA_SUBNETS` and
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

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic || first == "_",
              first.isASCII else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}
