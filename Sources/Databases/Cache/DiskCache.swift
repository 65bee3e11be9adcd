import DHCPWire
import Foundation
import GRDB

/// The SQLite disk cache: `DISK_CACHE` (an anonymous temporary file) or `DISK_CACHE_PERSISTENT`
/// (a file that survives restarts, and with it the ability to serve known clients while the
/// database is down). Each entry is a JSON list of definitions with its generation.
final class DiskCache: CacheStore {
    let name: String
    private let queue: DatabaseQueue
    private let temporaryPath: String?

    /// `path` nil: an anonymous file in the temporary directory, deleted when the cache goes.
    init(path: String?) throws {
        let file = path ?? NSTemporaryDirectory() + "/staticdhcpd-cache-\(UUID().uuidString).sqlite"
        temporaryPath = path == nil ? file : nil
        name = path.map { "disk(\($0))" } ?? "disk(temporary)"
        var configuration = Configuration()
        configuration.label = "staticdhcpd.disk-cache"
        configuration.busyMode = .timeout(1)
        configuration.prepareDatabase { db in
            // A cache may lose its last writes on power loss; it must not cost an fsync per client.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        queue = try DatabaseQueue(path: file, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS maps (mac INTEGER PRIMARY KEY, generation INTEGER NOT NULL, details TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """)
        }
    }

    deinit {
        if let temporaryPath {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporaryPath + suffix) }
        }
    }

    func entry(for mac: MAC) async throws -> CacheEntry? {
        let key = Int64(mac.value)
        let row = try await queue.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT generation, details FROM maps WHERE mac = ?"), arguments: [key])
                .map { (($0[0] as Int64?) ?? 0, ($0[1] as String?) ?? "") }
        }
        guard let row else { return nil }
        let (generation, details) = row
        let stored = try JSONDecoder().decode([StoredDefinition].self, from: Data(details.utf8))
        return CacheEntry(definitions: try stored.map { try $0.definition() }, generation: UInt64(generation))
    }

    func store(_ entry: CacheEntry, for mac: MAC) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.definitions.map(StoredDefinition.init)), as: UTF8.self)
        let key = Int64(mac.value)
        let generation = Int64(entry.generation)
        try await queue.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO maps (mac, generation, details) VALUES (?, ?, ?)",
                arguments: [key, generation, details])
        }
    }

    func remove(_ mac: MAC) async throws {
        let key = Int64(mac.value)
        try await queue.write { db in try db.execute(sql: "DELETE FROM maps WHERE mac = ?", arguments: [key]) }
    }

    func recordedGeneration() async throws -> UInt64 {
        try await queue.read { db in
            UInt64(try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'generation'") ?? 0)
        }
    }

    func record(generation: UInt64) async throws {
        let value = Int64(generation)
        try await queue.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)", arguments: [value])
        }
    }
}

/// A definition as the disk cache writes it: JSON with addresses as dotted strings.
struct StoredDefinition: Codable {
    var ip: String
    var leaseTime: UInt32
    var subnet: String
    var serial: Int
    var hostname: String?
    var gateways: [String]
    var subnetMask: String?
    var broadcastAddress: String?
    var domainName: String?
    var domainNameServers: [String]
    var ntpServers: [String]
    var extra: [String: StoredExtra]?

    init(_ definition: Definition) {
        ip = definition.ip.description
        leaseTime = definition.leaseTime
        subnet = definition.subnet
        serial = definition.serial
        hostname = definition.hostname
        gateways = definition.gateways.map(\.description)
        subnetMask = definition.subnetMask?.description
        broadcastAddress = definition.broadcastAddress?.description
        domainName = definition.domainName
        domainNameServers = definition.domainNameServers.map(\.description)
        ntpServers = definition.ntpServers.map(\.description)
        extra = definition.extra?.mapValues(StoredExtra.init)
    }

    func definition() throws -> Definition {
        func address(_ text: String) throws -> IPv4 {
            guard let address = IPv4(text) else { throw DatabaseError.rejected("disk cache holds a bad address '\(text)'") }
            return address
        }
        return Definition(
            ip: try address(ip), leaseTime: leaseTime, subnet: subnet, serial: serial, hostname: hostname,
            gateways: try gateways.map(address), subnetMask: try subnetMask.map(address),
            broadcastAddress: try broadcastAddress.map(address), domainName: domainName,
            domainNameServers: try domainNameServers.map(address), ntpServers: try ntpServers.map(address),
            extra: extra?.mapValues(\.value))
    }
}

/// `ExtraValue` in JSON, tagged so that 1 and 1.0, or "true" and true, come back as they went in.
struct StoredExtra: Codable {
    var value: ExtraValue

    init(_ value: ExtraValue) { self.value = value }

    private enum Key: String, CodingKey { case s, i, d, b, l, t }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .s) {
            value = .string(text)
        } else if let number = try container.decodeIfPresent(Int.self, forKey: .i) {
            value = .integer(number)
        } else if let number = try container.decodeIfPresent(Double.self, forKey: .d) {
            value = .double(number)
        } else if let flag = try container.decodeIfPresent(Bool.self, forKey: .b) {
            value = .bool(flag)
        } else if let list = try container.decodeIfPresent([StoredExtra].self, forKey: .l) {
            value = .list(list.map(\.value))
        } else {
            value = .table(try container.decode([String: StoredExtra].self, forKey: .t).mapValues(\.value))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch value {
        case .string(let text): try container.encode(text, forKey: .s)
        case .integer(let number): try container.encode(number, forKey: .i)
        case .double(let number): try container.encode(number, forKey: .d)
        case .bool(let flag): try container.encode(flag, forKey: .b)
        case .list(let list): try container.encode(list.map(StoredExtra.init), forKey: .l)
        case .table(let table): try container.encode(table.mapValues(StoredExtra.init), forKey: .t)
        }
    }
}
