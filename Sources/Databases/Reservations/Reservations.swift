import DHCPWire
import Foundation
import GRDB

/// The reservations tool's core, behind `staticdhcpd db ...` and the web UI: edits the SQLite
/// file that the SQLite engine reads.
///
/// Every edit validates first and says exactly what is wrong (bad MAC, bad address, duplicate,
/// unknown subnet); a CSV import is one transaction, so a bad row leaves the file untouched.
public final class Reservations: Sendable {
    public let path: String
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the SQLite file at `path` for writing.
    public init(path: String) throws {
        self.path = path
        do {
            var configuration = Configuration()
            configuration.label = "staticdhcpd.reservations"
            configuration.busyMode = .timeout(5)
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw DatabaseError.unavailable(engine: "SQLite", reason: "cannot open \(path) for writing: \(error)")
        }
    }

    /// Creates the `subnets` and `maps` tables and the case-insensitive MAC index if missing, and
    /// switches the file to WAL so the running server's readers never block edits.
    public func initSchema() throws {
        try guarded {
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.inTransaction {
                    try db.execute(sql: Self.schema)
                    return .commit
                }
            }
        }
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS subnets (
            subnet TEXT NOT NULL,
            serial INTEGER NOT NULL DEFAULT 0,
            lease_time INTEGER NOT NULL,
            gateway TEXT,
            subnet_mask TEXT,
            broadcast_address TEXT,
            ntp_servers TEXT,
            domain_name_servers TEXT,
            domain_name TEXT,
            PRIMARY KEY (subnet, serial)
        );
        CREATE TABLE IF NOT EXISTS maps (
            mac TEXT PRIMARY KEY NOT NULL,
            ip TEXT NOT NULL,
            hostname TEXT,
            subnet TEXT NOT NULL,
            serial INTEGER NOT NULL DEFAULT 0,
            UNIQUE (ip, subnet, serial),
            FOREIGN KEY (subnet, serial) REFERENCES subnets (subnet, serial)
        );
        CREATE INDEX IF NOT EXISTS maps_mac_nocase ON maps (mac COLLATE NOCASE);
        """

    // MARK: Subnets

    public func addSubnet(_ record: SubnetRecord) throws {
        guard !record.subnet.isEmpty else { throw DatabaseError.rejected("a subnet needs a non-empty label") }
        guard record.leaseTime > 0 else {
            throw DatabaseError.rejected("subnet '\(record.subnet)' serial \(record.serial): the lease time must be above 0")
        }
        try guarded {
            try queue.write { db in
                if try Self.subnetExists(db, record.subnet, record.serial) {
                    throw DatabaseError.rejected("subnet '\(record.subnet)' serial \(record.serial) already exists")
                }
                try db.execute(
                    sql: """
                        INSERT INTO subnets (subnet, serial, lease_time, gateway, subnet_mask, broadcast_address,
                            ntp_servers, domain_name_servers, domain_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.subnet, record.serial, Int64(record.leaseTime), Self.list(record.gateways),
                        record.subnetMask?.description, record.broadcastAddress?.description,
                        Self.list(record.ntpServers), Self.list(record.domainNameServers), record.domainName,
                    ])
            }
        }
    }

    /// Replaces the settings of an existing subnet (its reservations keep pointing at it).
    public func updateSubnet(_ record: SubnetRecord) throws {
        guard record.leaseTime > 0 else {
            throw DatabaseError.rejected("subnet '\(record.subnet)' serial \(record.serial): the lease time must be above 0")
        }
        try guarded {
            try queue.write { db in
                guard try Self.subnetExists(db, record.subnet, record.serial) else {
                    throw DatabaseError.rejected("subnet '\(record.subnet)' serial \(record.serial) does not exist")
                }
                try db.execute(
                    sql: """
                        UPDATE subnets SET lease_time = ?, gateway = ?, subnet_mask = ?, broadcast_address = ?,
                            ntp_servers = ?, domain_name_servers = ?, domain_name = ? WHERE subnet = ? AND serial = ?
                        """,
                    arguments: [
                        Int64(record.leaseTime), Self.list(record.gateways), record.subnetMask?.description,
                        record.broadcastAddress?.description, Self.list(record.ntpServers), Self.list(record.domainNameServers),
                        record.domainName, record.subnet, record.serial,
                    ])
            }
        }
    }

    public func listSubnets() throws -> [SubnetRecord] {
        try guarded {
            try queue.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT subnet, serial, lease_time, gateway, subnet_mask, broadcast_address, ntp_servers,
                        domain_name_servers, domain_name FROM subnets ORDER BY subnet, serial
                    """).map { row in
                    SubnetRecord(
                        subnet: (row[0] as String?) ?? "", serial: (row[1] as Int?) ?? 0, leaseTime: UInt32(clamping: (row[2] as Int64?) ?? 0),
                        gateways: Self.addresses(row[3]), subnetMask: (row[4] as String?).flatMap { IPv4($0) },
                        broadcastAddress: (row[5] as String?).flatMap { IPv4($0) }, domainName: row[8],
                        domainNameServers: Self.addresses(row[7]), ntpServers: Self.addresses(row[6]))
                }
            }
        }
    }

    /// Removes a subnet; refused while reservations still use it.
    public func removeSubnet(_ subnet: String, serial: Int = 0) throws {
        guard try removeSubnetIfPresent(subnet, serial: serial) else {
            throw DatabaseError.rejected("subnet '\(subnet)' serial \(serial) does not exist")
        }
    }

    /// `removeSubnet`, answering false for a subnet that does not exist.
    public func removeSubnetIfPresent(_ subnet: String, serial: Int = 0) throws -> Bool {
        try guarded {
            try queue.write { db in
                guard try Self.subnetExists(db, subnet, serial) else { return false }
                let users = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM maps WHERE subnet = ? AND serial = ?", arguments: [subnet, serial]) ?? 0
                guard users == 0 else {
                    throw DatabaseError.rejected(
                        "subnet '\(subnet)' serial \(serial) still has \(users) reservation(s); remove them first")
                }
                try db.execute(sql: "DELETE FROM subnets WHERE subnet = ? AND serial = ?", arguments: [subnet, serial])
                return true
            }
        }
    }

    // MARK: Reservations

    /// Adds a reservation; `mac` may use any spelling with 12 hex digits and is stored canonically.
    public func addMap(mac: String, ip: String, subnet: String, serial: Int = 0, hostname: String? = nil) throws {
        try add(try Self.reservation(mac: mac, ip: ip, subnet: subnet, serial: serial, hostname: hostname))
    }

    /// Adds a reservation already parsed (the web UI's); refused like `addMap`'s.
    public func add(_ reservation: Reservation) throws {
        try Self.checkSubnetLabel(reservation)
        try guarded { try queue.write { db in try Self.insert(reservation, into: db) } }
    }

    /// Replaces the reservation of `old` in one transaction: the new one is checked against
    /// every other reservation (not against the one it replaces), and if it is refused the old
    /// one is still there, untouched.
    public func replaceMap(mac old: String, withMAC mac: String, ip: String, subnet: String, serial: Int = 0,
                           hostname: String? = nil) throws {
        guard let oldMAC = MAC(old) else { throw Self.badMAC(old) }
        try replace(mac: oldMAC, with: try Self.reservation(mac: mac, ip: ip, subnet: subnet, serial: serial, hostname: hostname))
    }

    /// `replaceMap` for a reservation already parsed: one transaction, the old one kept if the new one is refused.
    public func replace(mac oldMAC: MAC, with reservation: Reservation) throws {
        try Self.checkSubnetLabel(reservation)
        try guarded {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM maps WHERE mac = ? COLLATE NOCASE", arguments: [oldMAC.description])
                guard db.changesCount > 0 else { throw DatabaseError.rejected("no reservation for \(oldMAC)") }
                try Self.insert(reservation, into: db)
            }
        }
    }

    public func list() throws -> [Reservation] {
        try fetch("", arguments: [])
    }

    /// The reservation of `mac`, if any, read by the primary key.
    public func reservation(mac text: String) throws -> Reservation? {
        guard let mac = MAC(text) else { throw Self.badMAC(text) }
        return try reservation(mac: mac)
    }

    public func reservation(mac: MAC) throws -> Reservation? {
        try fetch("WHERE mac = ? COLLATE NOCASE", arguments: [mac.description]).first
    }

    /// At most `limit` reservations whose MAC, address, host name or subnet contains `query`
    /// (case-insensitively), in MAC order; the filtering is SQLite's, so a page of a large table
    /// costs one indexed scan, not a copy of the table.
    public func search(_ query: String, limit: Int) throws -> [Reservation] {
        let trimmed = query.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { return try fetch("ORDER BY mac LIMIT ?", arguments: [limit], ordered: true) }
        let escaped = trimmed.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        let pattern = "%" + escaped + "%"
        return try fetch(
            """
            WHERE lower(mac) LIKE ?1 ESCAPE '\\' OR ip LIKE ?1 ESCAPE '\\' OR lower(ifnull(hostname, '')) LIKE ?1 ESCAPE '\\'
                OR lower(subnet) LIKE ?1 ESCAPE '\\' ORDER BY mac LIMIT ?2
            """, arguments: [pattern, limit], ordered: true)
    }

    /// Reservations matching `clause`; rows whose MAC or address does not parse are skipped
    /// (`staticdhcpd db check` lists them).
    private func fetch(_ clause: String, arguments: StatementArguments, ordered: Bool = false) throws -> [Reservation] {
        let order = ordered || clause.contains("mac = ?") ? "" : " ORDER BY mac"
        return try guarded {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT mac, ip, subnet, serial, hostname FROM maps \(clause)\(order)", arguments: arguments)
                    .compactMap { row in
                        guard let mac = (row[0] as String?).flatMap({ MAC($0) }), let ip = (row[1] as String?).flatMap({ IPv4($0) })
                        else { return nil }
                        return Reservation(
                            mac: mac, ip: ip, subnet: (row[2] as String?) ?? "", serial: (row[3] as Int?) ?? 0, hostname: row[4])
                    }
            }
        }
    }

    public func remove(mac text: String) throws {
        guard let mac = MAC(text) else { throw Self.badMAC(text) }
        try remove(mac: mac)
    }

    public func remove(mac: MAC) throws {
        guard try removeIfPresent(mac: mac) else { throw DatabaseError.rejected("no reservation for \(mac)") }
    }

    /// `remove`, answering false when `mac` has no reservation.
    public func removeIfPresent(mac: MAC) throws -> Bool {
        try guarded {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM maps WHERE mac = ? COLLATE NOCASE", arguments: [mac.description])
                return db.changesCount > 0
            }
        }
    }

    // MARK: CSV

    /// Imports `mac,ip,subnet,serial,hostname` lines (header optional) all-or-nothing; returns the
    /// number of reservations added.
    @discardableResult
    public func importCSV(file: String) throws -> Int {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw DatabaseError.rejected("cannot read \(file): \(error.localizedDescription)")
        }
        return try importCSV(text: text, source: file)
    }

    @discardableResult
    public func importCSV(text: String, source: String = "CSV") throws -> Int {
        var reservations: [(line: Int, reservation: Reservation)] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let number = index + 1
            if line.allSatisfy(\.isWhitespace) || line.hasPrefix("#") { continue }
            do {
                let fields = try ReservationCSV.fields(of: line).map { $0.trimmingCharacters() }
                if reservations.isEmpty, fields.first?.lowercased() == "mac" { continue }
                guard (3...5).contains(fields.count) else {
                    throw DatabaseError.rejected("expected mac,ip,subnet[,serial[,hostname]], found \(fields.count) field(s)")
                }
                let serialText = fields.count > 3 ? fields[3] : ""
                guard let serial = serialText.isEmpty ? 0 : Int(serialText) else {
                    throw DatabaseError.rejected("serial '\(serialText)' is not an integer")
                }
                let hostname = fields.count > 4 && !fields[4].isEmpty ? fields[4] : nil
                reservations.append((number, try Self.reservation(
                    mac: fields[0], ip: fields[1], subnet: fields[2], serial: serial, hostname: hostname)))
            } catch let error as DatabaseError {
                throw DatabaseError.badFile(path: source, line: number, reason: Self.reason(error))
            }
        }
        try guarded {
            try queue.write { db in
                // Checked against one read of the table's MACs, not a `mac = ? COLLATE NOCASE` per
                // row: without the tool's NOCASE index (a database made by the original's tools)
                // each of those scans the whole table, which made an import quadratic.
                var reserved = try Self.reservedMACs(db)
                for (line, reservation) in reservations {
                    do {
                        if reserved.contains(reservation.mac) { throw try Self.alreadyReserved(reservation.mac, in: db) }
                        try Self.insertNewMAC(reservation, into: db)
                        reserved.insert(reservation.mac)
                    } catch let error as DatabaseError {
                        throw DatabaseError.badFile(path: source, line: line, reason: Self.reason(error))
                    }
                }
            }
        }
        return reservations.count
    }

    public func exportCSV() throws -> String {
        var lines = [ReservationCSV.header]
        for reservation in try list() {
            lines.append(ReservationCSV.line([
                reservation.mac.description, reservation.ip.description, reservation.subnet,
                String(reservation.serial), reservation.hostname ?? "",
            ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Demo

    /// On an empty file: creates the schema, the demo subnet 192.0.2.0/24 and two reservations.
    /// Returns false (and changes nothing) when the file already has subnets.
    @discardableResult
    public func seedDemo() throws -> Bool {
        try initSchema()
        guard try listSubnets().isEmpty else { return false }
        try addSubnet(SubnetRecord(
            subnet: "192.0.2.0/24", serial: 0, leaseTime: 3600, gateways: [IPv4(192, 0, 2, 1)],
            subnetMask: IPv4(255, 255, 255, 0), broadcastAddress: IPv4(192, 0, 2, 255), domainName: "demo.example",
            domainNameServers: [IPv4(192, 0, 2, 1)], ntpServers: []))
        try addMap(mac: "02:00:00:00:00:01", ip: "192.0.2.10", subnet: "192.0.2.0/24", hostname: "demo-one")
        try addMap(mac: "02:00:00:00:00:02", ip: "192.0.2.11", subnet: "192.0.2.0/24", hostname: "demo-two")
        return true
    }

    // MARK: Helpers

    private static func reservation(mac: String, ip: String, subnet: String, serial: Int, hostname: String?) throws -> Reservation {
        guard let parsedMAC = MAC(mac) else { throw badMAC(mac) }
        guard let parsedIP = IPv4(ip), ip.split(separator: ".").count == 4 else {
            throw DatabaseError.rejected("'\(ip)' is not an IPv4 address (dotted quad expected)")
        }
        let reservation = Reservation(mac: parsedMAC, ip: parsedIP, subnet: subnet, serial: serial, hostname: hostname)
        try checkSubnetLabel(reservation)
        return reservation
    }

    private static func checkSubnetLabel(_ reservation: Reservation) throws {
        guard !reservation.subnet.isEmpty else { throw DatabaseError.rejected("a reservation needs a subnet") }
    }

    private static func insert(_ reservation: Reservation, into db: GRDB.Database) throws {
        if try Row.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM maps WHERE mac = ? COLLATE NOCASE"), arguments: [reservation.mac.description]) != nil {
            throw try alreadyReserved(reservation.mac, in: db)
        }
        try insertNewMAC(reservation, into: db)
    }

    /// Inserts a reservation whose MAC the caller has checked is not reserved: refused when its
    /// subnet is missing or its address is taken in that subnet and serial.
    private static func insertNewMAC(_ reservation: Reservation, into db: GRDB.Database) throws {
        guard try subnetExists(db, reservation.subnet, reservation.serial) else {
            throw DatabaseError.rejected(
                "subnet '\(reservation.subnet)' serial \(reservation.serial) does not exist; add it first (db subnet add)")
        }
        // Cached statements: an import runs these once per row, and preparing them again each
        // time was most of the cost of a large file.
        if let holder = try String.fetchOne(
            db.cachedStatement(sql: "SELECT mac FROM maps WHERE ip = ? AND subnet = ? AND serial = ?"),
            arguments: [reservation.ip.description, reservation.subnet, reservation.serial]) {
            throw DatabaseError.rejected(
                "\(reservation.ip) is already reserved for \(holder) in '\(reservation.subnet)' serial \(reservation.serial)")
        }
        try db.cachedStatement(sql: "INSERT INTO maps (mac, ip, hostname, subnet, serial) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [reservation.mac.description, reservation.ip.description, reservation.hostname,
                                 reservation.subnet, reservation.serial])
    }

    /// Every reserved MAC, in any case the table holds it; rows that are not MACs are left out
    /// (they cannot equal one).
    private static func reservedMACs(_ db: GRDB.Database) throws -> Set<MAC> {
        var found = Set<MAC>()
        let rows = try String.fetchCursor(db, sql: "SELECT mac FROM maps")
        while let text = try rows.next() {
            if let mac = MAC(text) { found.insert(mac) }
        }
        return found
    }

    /// The refusal for a MAC that is already reserved, naming where.
    private static func alreadyReserved(_ mac: MAC, in db: GRDB.Database) throws -> DatabaseError {
        let existing = try Row.fetchOne(
            db, sql: "SELECT ip, subnet, serial FROM maps WHERE mac = ? COLLATE NOCASE", arguments: [mac.description])
        return .rejected("\(mac) is already reserved (\(existing?[0] as String? ?? "?") in '\(existing?[1] as String? ?? "?")' serial \(existing?[2] as Int? ?? 0))")
    }

    private static func subnetExists(_ db: GRDB.Database, _ subnet: String, _ serial: Int) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM subnets WHERE subnet = ? AND serial = ?)"),
            arguments: [subnet, serial]) ?? false
    }

    private static func badMAC(_ text: String) -> DatabaseError {
        .rejected("'\(text)' is not a MAC address (12 hex digits expected, e.g. 00:11:22:33:44:55)")
    }

    private static func list(_ addresses: [IPv4]) -> String? {
        addresses.isEmpty ? nil : addresses.map(\.description).joined(separator: ",")
    }

    private static func addresses(_ text: String?) -> [IPv4] {
        (text ?? "").split(separator: ",").compactMap { IPv4($0) }
    }

    private static func reason(_ error: DatabaseError) -> String {
        if case .rejected(let text) = error { return text }
        return error.description
    }

    /// Runs a GRDB operation, turning SQLite's own errors into `DatabaseError`s that name the file.
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw error
        } catch let error as GRDB.DatabaseError {
            throw DatabaseError.unavailable(engine: "SQLite", reason: "\(path): \(error.message ?? error.description)")
        }
    }
}
