import DHCPWire

/// A `subnets` row: the settings every reservation in `(subnet, serial)` shares.
public struct SubnetRecord: Sendable, Equatable {
    public var subnet: String
    public var serial: Int
    public var leaseTime: UInt32
    public var gateways: [IPv4]
    public var subnetMask: IPv4?
    public var broadcastAddress: IPv4?
    public var domainName: String?
    public var domainNameServers: [IPv4]
    public var ntpServers: [IPv4]

    public init(
        subnet: String, serial: Int = 0, leaseTime: UInt32, gateways: [IPv4] = [], subnetMask: IPv4? = nil,
        broadcastAddress: IPv4? = nil, domainName: String? = nil, domainNameServers: [IPv4] = [], ntpServers: [IPv4] = []
    ) {
        self.subnet = subnet
        self.serial = serial
        self.leaseTime = leaseTime
        self.gateways = gateways
        self.subnetMask = subnetMask
        self.broadcastAddress = broadcastAddress
        self.domainName = domainName
        self.domainNameServers = domainNameServers
        self.ntpServers = ntpServers
    }
}

/// A `maps` row: one client's reservation.
public struct Reservation: Sendable, Equatable {
    public var mac: MAC
    public var ip: IPv4
    public var subnet: String
    public var serial: Int
    public var hostname: String?

    public init(mac: MAC, ip: IPv4, subnet: String, serial: Int = 0, hostname: String? = nil) {
        self.mac = mac
        self.ip = ip
        self.subnet = subnet
        self.serial = serial
        self.hostname = hostname
    }
}

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
