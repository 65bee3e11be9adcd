import Foundation
import GRDB

/// Creates an SQLite file from SQL text (in WAL mode, as the reservations tool leaves it).
func makeSQLiteFile(_ path: String, sql: String) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode = WAL")
    }
    try queue.write { db in try db.execute(sql: sql) }
}

func execute(_ path: String, _ sql: String) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in try db.execute(sql: sql) }
}


/// The tables as the original's tools make them: no NOCASE index on `maps.mac`, which the
/// reservations tool's `initSchema` adds.
let originalSchema = """
    CREATE TABLE subnets (subnet TEXT NOT NULL, serial INTEGER NOT NULL DEFAULT 0, lease_time INTEGER NOT NULL,
        gateway TEXT, subnet_mask TEXT, broadcast_address TEXT, ntp_servers TEXT, domain_name_servers TEXT,
        domain_name TEXT, PRIMARY KEY (subnet, serial));
    CREATE TABLE maps (mac TEXT PRIMARY KEY NOT NULL, ip TEXT NOT NULL, hostname TEXT, subnet TEXT NOT NULL,
        serial INTEGER NOT NULL DEFAULT 0, UNIQUE (ip, subnet, serial));

    """

/// Writes `count` reservations (MACs 02:00:00:00:00:00 upwards, addresses from 198.51.0.0) in
/// one subnet, in one transaction.
func makeLargeReservationFile(_ path: String, count: Int) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
    try queue.write { db in
        try db.execute(sql: originalSchema + """
            INSERT INTO subnets VALUES ('big', 0, 3600, '198.51.0.1', '255.255.0.0', NULL, NULL, '198.51.0.53', 'big.test');
            """)
        let statement = try db.makeStatement(sql: "INSERT INTO maps VALUES (?, ?, NULL, 'big', 0)")
        for index in 0..<count {
            let mac = 0x0200_0000_0000 + UInt64(index)
            let macText = (0..<6).map { String(format: "%02x", (mac >> UInt64(40 - 8 * $0)) & 0xFF) }.joined(separator: ":")
            let ip = 0xC633_0000 &+ UInt32(index)
            let ipText = "\(ip >> 24).\((ip >> 16) & 0xFF).\((ip >> 8) & 0xFF).\(ip & 0xFF)"
            try statement.execute(arguments: [macText, ipText])
        }
    }
}
