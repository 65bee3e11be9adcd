import DHCPWire

/// One row of `subnets` (docs/DEPLOYMENT.md, "The reservation tables"): the settings every
/// reservation in `(subnet, serial)` shares. The reservations tool stores it, the web API sends
/// and receives it.
///
/// In JSON the addresses are dotted quads and the address lists (`gateway`, `ntpServers`,
/// `domainNameServers`) one comma-separated string, as in the table; an empty list or an absent
/// value is left out.
public struct SubnetRecord: Sendable, Equatable, Codable {
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

    private enum CodingKeys: String, CodingKey {
        case subnet, serial, leaseTime, gateway, subnetMask, broadcastAddress, ntpServers, domainNameServers, domainName
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subnet, forKey: .subnet)
        try container.encode(serial, forKey: .serial)
        try container.encode(leaseTime, forKey: .leaseTime)
        try container.encodeIfPresent(AddressText.list(gateways), forKey: .gateway)
        try container.encodeIfPresent(subnetMask?.description, forKey: .subnetMask)
        try container.encodeIfPresent(broadcastAddress?.description, forKey: .broadcastAddress)
        try container.encodeIfPresent(AddressText.list(ntpServers), forKey: .ntpServers)
        try container.encodeIfPresent(AddressText.list(domainNameServers), forKey: .domainNameServers)
        try container.encodeIfPresent(domainName, forKey: .domainName)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        subnet = try container.decode(String.self, forKey: .subnet)
        serial = try container.decode(Int.self, forKey: .serial)
        leaseTime = try container.decode(UInt32.self, forKey: .leaseTime)
        gateways = try AddressText.addresses(container, .gateway)
        subnetMask = try AddressText.address(container, .subnetMask)
        broadcastAddress = try AddressText.address(container, .broadcastAddress)
        ntpServers = try AddressText.addresses(container, .ntpServers)
        domainNameServers = try AddressText.addresses(container, .domainNameServers)
        domainName = try container.decodeIfPresent(String.self, forKey: .domainName)
    }
}

/// One row of `maps` (docs/DEPLOYMENT.md, "The reservation tables"): one client's reservation.
/// In JSON the MAC is `aa:bb:cc:dd:ee:ff` and the address a dotted quad; no host name is left out.
public struct Reservation: Sendable, Equatable, Codable {
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

    private enum CodingKeys: String, CodingKey {
        case mac, ip, hostname, subnet, serial
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mac.description, forKey: .mac)
        try container.encode(ip.description, forKey: .ip)
        try container.encodeIfPresent(hostname, forKey: .hostname)
        try container.encode(subnet, forKey: .subnet)
        try container.encode(serial, forKey: .serial)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let macText = try container.decode(String.self, forKey: .mac)
        guard let mac = MAC(macText) else {
            throw DecodingError.dataCorruptedError(forKey: .mac, in: container, debugDescription: "'\(macText)' is not a MAC address")
        }
        self.mac = mac
        guard let ip = try AddressText.address(container, .ip) else {
            throw DecodingError.keyNotFound(CodingKeys.ip, .init(codingPath: container.codingPath, debugDescription: "no address"))
        }
        self.ip = ip
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        subnet = try container.decode(String.self, forKey: .subnet)
        serial = try container.decode(Int.self, forKey: .serial)
    }
}

/// The JSON spelling of the records' addresses.
private enum AddressText {
    static func list(_ addresses: [IPv4]) -> String? {
        addresses.isEmpty ? nil : addresses.map(\.description).joined(separator: ",")
    }

    static func address<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> IPv4? {
        guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let address = IPv4(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(text)' is not an IPv4 address")
        }
        return address
    }

    static func addresses<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> [IPv4] {
        guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return [] }
        do {
            return try IPv4.list(text)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "'\(error.piece)' is not an IPv4 address")
        }
    }
}
