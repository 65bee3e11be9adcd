import DHCPWire
import Foundation
import Web

/// Two dynamic pools' leases for the leases page: every state, a client-chosen hostname that
/// must come out escaped, and pools nearly empty and nearly full.
actor PreviewLeases: LeaseSource {
    private var rows: [PoolLease] = {
        let now = Date()
        var rows: [PoolLease] = []
        for index in 0..<23 {
            let state = index % 7 == 3 ? "offered" : "bound"
            let expires = now.addingTimeInterval(index == 5 ? -240 : Double(300 + index * 97))
            rows.append(PoolLease(pool: "guests", mac: String(format: "52:54:00:20:%02x:%02x", index, (index * 53) % 256),
                              ip: "192.0.2.\(130 + index)", state: state, expires: expires,
                              hostname: index % 4 == 1 ? nil : (index == 2 ? "<b>not bold</b>" : "guest-\(index)")))
        }
        rows.append(PoolLease(pool: "guests", mac: "52:54:00:2f:00:01", ip: "192.0.2.190", state: "quarantined", expires: now.addingTimeInterval(1_800)))
        rows.append(PoolLease(pool: "lab", mac: "52:54:00:30:00:07", ip: "198.51.100.200", state: "bound", expires: now.addingTimeInterval(3_000), hostname: "scope-lab"))
        return rows
    }()

    func leases() async throws -> [PoolLease] { rows }

    func poolUsage() async throws -> [PoolUsage] {
        [
            PoolUsage(pool: "guests", size: 62, leased: 19, offered: 3, expired: 1, quarantined: 1, free: 38),
            PoolUsage(pool: "lab", size: 8, leased: 7, offered: 0, expired: 0, quarantined: 0, free: 1),
        ]
    }

    func release(mac: MAC) async throws -> [PoolLease] {
        let mac = mac.description
        let released = rows.filter { $0.mac == mac && $0.state != "quarantined" }
        rows.removeAll { $0.mac == mac && $0.state != "quarantined" }
        return released
    }
}
