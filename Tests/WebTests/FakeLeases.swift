import DHCPWire
import Foundation
@testable import Web

/// An in-memory lease source: three pools' worth of leases around the harness's clock
/// (1_790_003_600), the pools' gauges, and a switch that makes every read fail.
actor FakeLeases: LeaseSource {
    static let now = Date(timeIntervalSince1970: 1_790_003_600)

    var rows: [PoolLease] = [
        PoolLease(pool: "guests", mac: "aa:bb:cc:00:00:01", ip: "198.51.100.10", state: "bound", expires: now.addingTimeInterval(1800), hostname: "Laptop-Anna"),
        PoolLease(pool: "guests", mac: "aa:bb:cc:00:00:02", ip: "198.51.100.11", state: "offered", expires: now.addingTimeInterval(40)),
        PoolLease(pool: "guests", mac: "aa:bb:cc:00:00:03", ip: "198.51.100.12", state: "bound", expires: now.addingTimeInterval(-60), hostname: "printer"),
        PoolLease(pool: "lab", mac: "aa:bb:cc:00:00:04", ip: "203.0.113.20", state: "quarantined", expires: now.addingTimeInterval(600)),
    ]
    var usage: [PoolUsage] = [
        PoolUsage(pool: "guests", size: 10, leased: 1, offered: 1, expired: 1, quarantined: 0, free: 7),
        PoolUsage(pool: "lab", size: 4, leased: 0, offered: 0, expired: 0, quarantined: 1, free: 3),
    ]
    var failing = false

    func setFailing(_ value: Bool) { failing = value }
    func add(_ lease: PoolLease) { rows.append(lease) }
    func holds(_ mac: String) -> Bool { rows.contains { $0.mac == mac } }

    func leases() async throws -> [PoolLease] {
        if failing { throw FakeStoreDown() }
        return rows
    }

    func poolUsage() async throws -> [PoolUsage] {
        if failing { throw FakeStoreDown() }
        return usage
    }

    func release(mac: MAC) async throws -> [PoolLease] {
        let mac = mac.description
        if failing { throw FakeStoreDown() }
        let released = rows.filter { $0.mac == mac && $0.state != "quarantined" }
        rows.removeAll { $0.mac == mac && $0.state != "quarantined" }
        return released
    }
}

struct FakeStoreDown: Error {}
