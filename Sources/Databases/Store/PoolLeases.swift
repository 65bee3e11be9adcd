import Foundation
import DHCPModel

/// Reads and releases dynamism's leases in any store (SQLite or the shared PostgreSQL one).
public enum PoolLeases {
    public static let prefix = "dynamism/"

    /// Every lease in `rows` (a scan of `prefix`), in pool then address order. Records of the
    /// layout before the shared store (an `A/` record holding only the MAC) take their state and
    /// expiry from the MAC's `L/` record.
    public static func leases(in rows: [StoreRow]) -> [PoolLease] {
        var holders: [(pool: String, ip: String, record: [String: Any])] = []
        var index: [String: [String: Any]] = [:] // "pool/mac" -> L record
        for row in rows {
            guard row.key.hasPrefix(prefix) else { continue }
            let parts = row.key.dropFirst(prefix.count).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let record = object(row.value) else { continue }
            switch parts[1] {
            case "A": holders.append((String(parts[0]), canonicalIP(String(parts[2])), record))
            case "L": index["\(parts[0])/\(parts[2])"] = record
            default: continue
            }
        }
        return holders.compactMap { pool, ip, record in
            if let until = integer(record["quarantined"]) {
                return PoolLease(pool: pool, mac: record["declined_by"] as? String ?? "", ip: ip, state: "quarantined", expires: date(until))
            }
            guard let mac = record["mac"] as? String else { return nil }
            if let state = record["state"] as? String, let expires = integer(record["expires"]) {
                // A hostname of any other type (a damaged record) is left out rather than the lease.
                return PoolLease(pool: pool, mac: mac, ip: ip, state: state, expires: date(expires), hostname: record["hostname"] as? String)
            }
            guard let lease = index["\(pool)/\(mac)"], lease["ip"] as? String == ip, let expires = integer(lease["expires"]) else { return nil }
            return PoolLease(pool: pool, mac: mac, ip: ip, state: lease["state"] as? String == "offered" ? "offered" : "bound", expires: date(expires))
        }
    }

    /// The keys to delete to release `mac`'s leases: each pool's `L/<mac>`, and the `A/<ip>` it
    /// holds there.
    public static func keysToRelease(_ mac: String, leases: [PoolLease]) -> [String] {
        leases.filter { $0.mac == mac && $0.state != "quarantined" }.flatMap { lease in
            ["\(prefix)\(lease.pool)/L/\(mac)", "\(prefix)\(lease.pool)/A/\(ipKey(lease.ip))"]
        }
    }

    /// CSV with a header: pool,mac,ip,state,expires (ISO 8601, UTC),hostname (empty when unknown;
    /// last, so readers of the older five columns still find theirs in place).
    public static func csv(_ leases: [PoolLease]) -> String {
        let formatter = ISO8601DateFormatter()
        var lines = ["pool,mac,ip,state,expires,hostname"]
        for lease in leases {
            let expires = formatter.string(from: lease.expires)
            lines.append("\(lease.pool),\(lease.mac),\(lease.ip),\(lease.state),\(expires),\(csvField(lease.hostname ?? ""))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `staticdhcpd leases --json`: the expiry in whole seconds since the epoch, as the store keeps it.
    public static func json(_ leases: [PoolLease]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int(date.timeIntervalSince1970.rounded(.down)))
        }
        return String(decoding: try encoder.encode(leases), as: UTF8.self)
    }

    /// RFC 4180 quoting for a field a client chose (a hostname may hold a comma or a quote).
    static func csvField(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// "198.051.100.010", the zero-padded form dynamism keys addresses by (scan order is address order).
    public static func ipKey(_ ip: String) -> String {
        ip.split(separator: ".").map { String(repeating: "0", count: max(0, 3 - $0.count)) + $0 }.joined(separator: ".")
    }

    static func canonicalIP(_ key: String) -> String {
        key.split(separator: ".").map { String(Int($0) ?? 0) }.joined(separator: ".")
    }

    private static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    private static func date(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    private static func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber { return number.intValue }
        return nil
    }
}

extension PoolLeases {
    /// The raw records of every pool in a store of this daemon's own, for `leases(in:)`. The running
    /// daemon scans on the engine's executor (`KeyValueStore`'s threading contract) and decodes
    /// elsewhere, so the engine spends only the scan on it.
    public static func rows(of local: KeyValueStore) throws(StoreError) -> [StoreRow] {
        try local.scan(prefix: prefix).map { StoreRow(key: $0.key, value: $0.value) }
    }

    /// Every lease the store holds.
    public static func read(from store: ScriptStore) async throws(StoreError) -> [PoolLease] {
        switch store {
        case .local(let local):
            return leases(in: try rows(of: local))
        case .remote(let remote):
            guard case .rows(let rows) = try await remote.perform(.scan(prefix: prefix, limit: nil), in: nil) else { return [] }
            return leases(in: rows)
        }
    }

    /// `release(_:in:)` on a store of this daemon's own, synchronously: the running daemon calls it
    /// on the engine's executor, where every other call to that store is made (`KeyValueStore`'s
    /// threading contract).
    public static func release(_ mac: String, in local: KeyValueStore) throws(StoreError) -> [PoolLease] {
        do {
            return try local.transaction { () throws -> [PoolLease] in
                let found = leases(in: try rows(of: local))
                for key in keysToRelease(mac, leases: found) { try local.delete(key) }
                return found.filter { $0.mac == mac && $0.state != "quarantined" }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(error)")
        }
    }

    /// Releases `mac`'s leases (in every pool) in one transaction; returns what was released.
    /// Daemons see the address free at their next look at it.
    public static func release(_ mac: String, in store: ScriptStore) async throws(StoreError) -> [PoolLease] {
        switch store {
        case .local(let local):
            return try release(mac, in: local)
        case .remote(let remote):
            for _ in 0..<10 {
                let transaction = try await remote.begin(.serializable)
                do {
                    guard case .rows(let rows) = try await remote.perform(.scan(prefix: prefix, limit: nil), in: transaction) else { return [] }
                    let found = leases(in: rows)
                    for key in keysToRelease(mac, leases: found) {
                        _ = try await remote.perform(.delete(key), in: transaction)
                    }
                    if try await transaction.finish(commit: true) {
                        return found.filter { $0.mac == mac && $0.state != "quarantined" }
                    }
                } catch {
                    _ = try? await transaction.finish(commit: false)
                    if !transaction.conflicted { throw error }
                }
            }
            throw StoreError("releasing \(mac) conflicted with the daemons' transactions 10 times in a row; try again")
        }
    }
}
