import DHCPWire
import Databases
import Foundation
import Logging

/// The reservation set every engine is loaded with, and what each lookup must return.
enum ReservationSet {
    static let alpha = MAC(0x0011_2233_4455)
    static let beta = MAC(0xAABB_CCDD_EE01)
    static let gamma = MAC(0x0200_0000_0301)
    static let unknown = MAC(0x0200_0000_9999)

    static let expected: [MAC: Definition] = [
        alpha: Definition(
            ip: IPv4(192, 0, 2, 10), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 0, hostname: "alpha",
            gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0), broadcastAddress: IPv4(192, 0, 2, 255),
            domainName: "example.test", domainNameServers: [IPv4(192, 0, 2, 53), IPv4(192, 0, 2, 54)],
            ntpServers: [IPv4(192, 0, 2, 123)], extra: ["maps.vlan": .integer(12), "subnets.site": .string("north")]),
        beta: Definition(
            ip: IPv4(192, 0, 2, 11), leaseTime: 7200, subnet: "192.0.2.0/24", serial: 1,
            gateways: [IPv4(192, 0, 2, 2), IPv4(192, 0, 2, 3)], extra: ["subnets.site": .string("south")]),
        gamma: Definition(
            ip: IPv4(198, 51, 100, 7), leaseTime: 600, subnet: "floor 3", serial: 0, hostname: "gamma",
            extra: ["maps.vlan": .integer(30)]),
    ]

    /// SQL that creates and fills the tables (SQLite and PostgreSQL both accept it).
    static let sql = """
        CREATE TABLE subnets (subnet TEXT NOT NULL, serial INTEGER NOT NULL DEFAULT 0, lease_time INTEGER NOT NULL,
            gateway TEXT, subnet_mask TEXT, broadcast_address TEXT, ntp_servers TEXT, domain_name_servers TEXT,
            domain_name TEXT, site TEXT, PRIMARY KEY (subnet, serial));
        CREATE TABLE maps (mac TEXT PRIMARY KEY NOT NULL, ip TEXT NOT NULL, hostname TEXT, subnet TEXT NOT NULL,
            serial INTEGER NOT NULL DEFAULT 0, vlan INTEGER, UNIQUE (ip, subnet, serial));
        INSERT INTO subnets VALUES ('192.0.2.0/24', 0, 3600, '192.0.2.1', '255.255.255.0', '192.0.2.255',
            '192.0.2.123', '192.0.2.53, 192.0.2.54', 'example.test', 'north');
        INSERT INTO subnets VALUES ('192.0.2.0/24', 1, 7200, '192.0.2.2,192.0.2.3', NULL, NULL, NULL, NULL, NULL, 'south');
        INSERT INTO subnets VALUES ('floor 3', 0, 600, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO maps VALUES ('00:11:22:33:44:55', '192.0.2.10', 'alpha', '192.0.2.0/24', 0, 12);
        INSERT INTO maps VALUES ('aa:bb:cc:dd:ee:01', '192.0.2.11', NULL, '192.0.2.0/24', 1, NULL);
        INSERT INTO maps VALUES ('02:00:00:00:03:01', '198.51.100.7', 'gamma', 'floor 3', 0, 30);
        """

    /// The same set as an INI file, spelling MACs three different ways.
    static let ini = """
        ; the shared reservation set
        [192.0.2.0/24|0]
        lease-time: 3600
        gateway: 192.0.2.1
        subnet-mask: 255.255.255.0
        broadcast-address: 192.0.2.255
        ntp-servers: 192.0.2.123
        domain-name-servers: 192.0.2.53, 192.0.2.54
        domain-name: example.test
        site = s:north

        [192.0.2.0/24|1]
        lease-time = 7200
        gateway = 192.0.2.2,192.0.2.3
        site = south

        [floor 3|0]
        lease-time = 600

        [0011.2233.4455]
        ip = 192.0.2.10
        hostname = alpha
        subnet = 192.0.2.0/24
        serial = 0
        vlan = i:12

        [AA-BB-CC-DD-EE-01]
        ip = 192.0.2.11
        subnet = 192.0.2.0/24
        serial = 1

        [020000000301]
        ip = 198.51.100.7
        hostname = gamma
        subnet = floor 3
        serial = 0
        Vlan = i:30
        """

    static let query = try! DefinitionQuery(extraMaps: ["vlan"], extraSubnets: ["site"])
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "staticdhcpd-db-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

let quietLogger: Logger = {
    var logger = Logger(label: "DatabasesTests")
    logger.logLevel = .critical
    return logger
}()

/// A backend whose behaviour a test controls: up or down, slow or quick; counts lookups.
final class ScriptedDatabase: Database, @unchecked Sendable {
    private let lock = NSLock()
    private var _down = false
    private var _delay: Double = 0
    private var _lookups = 0
    private var _data: [MAC: [Definition]]

    init(_ data: [MAC: [Definition]]) { _data = data }

    var engineName: String { "Scripted" }
    var down: Bool {
        get { lock.withLock { _down } }
        set { lock.withLock { _down = newValue } }
    }
    var delay: Double {
        get { lock.withLock { _delay } }
        set { lock.withLock { _delay = newValue } }
    }
    var lookups: Int { lock.withLock { _lookups } }
    func set(_ mac: MAC, _ definitions: [Definition]?) { lock.withLock { _data[mac] = definitions } }
    /// What a lookup would answer now, counted as a lookup, without the delay.
    func answerNow(_ mac: MAC) -> [Definition] {
        lock.withLock {
            _lookups += 1
            return _data[mac] ?? []
        }
    }

    func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        let (down, delay, data) = lock.withLock { () -> (Bool, Double, [Definition]) in
            _lookups += 1
            return (_down, _delay, _data[mac] ?? [])
        }
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
        if down { throw DatabaseError.unavailable(engine: "Scripted", reason: "switched off by the test") }
        return data
    }

    func reinitialise() async throws {
        if down { throw DatabaseError.unavailable(engine: "Scripted", reason: "switched off by the test") }
    }
}
