import DHCPWire
import Foundation
import Web

/// Plausible, deterministic data for looking at the dashboard without a running DHCP server.
struct PreviewSource: DashboardSource {
    let start = Date().addingTimeInterval(-(3 * 86_400 + 4 * 3_600 + 17 * 60))

    func status() async -> StatusSnapshot {
        StatusSnapshot(
            startTime: start, configGeneration: 4,
            lastReload: ReloadOutcome(time: Date().addingTimeInterval(-2_712), succeeded: false, durationSeconds: 0.0183,
                                      error: "conf.lua:57: attempt to compare number with nil (in loadDHCPPacket)"),
            sockets: ["udp 192.0.2.1:67", "udp 192.0.2.1:4011", "raw eth0"], databaseEngine: "SQLite (cached, in-process)", cacheHitRate: 0.912)
    }

    func activity() async -> ActivitySeries {
        func wave(_ base: Double, _ amplitude: Double, _ period: Double, _ phase: Double) -> [Double] {
            (0..<360).map { (index: Int) -> Double in
                let x = Double(index)
                let burst: Double = (index % 97 < 6) ? amplitude * 1.8 : 0
                let noise = Double((index * 37) % 11) / 40
                let swing: Double = amplitude * sin(x / period + phase)
                return max(0, base + swing + burst + noise)
            }
        }
        return ActivitySeries(intervalSeconds: 10, end: Date(), series: [
            "DISCOVER": wave(2.1, 1.2, 17, 0),
            "REQUEST:SELECTING": wave(1.9, 1.0, 17, 0.4),
            "REQUEST:RENEW": wave(4.2, 1.6, 41, 1.3),
            "RELEASE": wave(0.2, 0.15, 9, 2),
            "INFORM": wave(0.6, 0.4, 23, 0.7),
        ])
    }

    func recentClients() async -> [RecentClient] {
        let methods = ["REQUEST:RENEW", "DISCOVER", "REQUEST:SELECTING", "INFORM", "REQUEST:REBIND", "RELEASE", "DECLINE"]
        var clients: [RecentClient] = []
        for index in 0..<12 {
            let mac = String(format: "52:54:00:%02x:%02x:%02x", 0x10 + index, (index * 37) % 256, (index * 91) % 256)
            let unknown = index == 5
            let subnet = index % 3 == 2 ? "198.51.100.0/24" : "192.0.2.0/24"
            let age = Double(index * index * 7 + 2)
            clients.append(RecentClient(
                mac: mac, method: methods[index % methods.count], ip: unknown ? nil : "192.0.2.\(20 + index * 3)",
                subnet: unknown ? nil : subnet, serial: unknown ? nil : index % 2,
                port: index == 3 ? 4011 : 67, time: Date().addingTimeInterval(-age)))
        }
        return clients
    }

    func logRecords() async -> [LogRecord] {
        let now = Date()
        return [
            LogRecord(time: now.addingTimeInterval(-3), level: .info, logger: "main", message: "REQUEST:RENEW from 52:54:00:10:00:00 via 192.0.2.1:67: ACK 192.0.2.20 (lease 3600 s)"),
            LogRecord(time: now.addingTimeInterval(-9), level: .info, logger: "main", message: "DISCOVER from 52:54:00:11:25:5b: OFFER 192.0.2.23"),
            LogRecord(time: now.addingTimeInterval(-41), level: .warning, logger: "main", message: "52:54:00:15:b9:c7 suspended for 150 s after 11 packets (flood threshold 10)"),
            LogRecord(time: now.addingTimeInterval(-95), level: .info, logger: "main", message: "INFORM from 52:54:00:13:6f:11 answered <no address change>"),
            LogRecord(time: now.addingTimeInterval(-610), level: .error, logger: "main", message: "database lookup for 52:54:00:16:de:22 failed: database is locked (retrying once)"),
            LogRecord(time: now.addingTimeInterval(-2_712), level: .critical, logger: "main", message: "Reinitialisation failed: conf.lua:57: attempt to compare number with nil (in loadDHCPPacket)"),
            LogRecord(time: now.addingTimeInterval(-2_800), level: .debug, logger: "main", message: "tick: 0 clients suspended, cache 412 entries"),
        ]
    }

    func metrics() async -> MetricsSnapshot {
        MetricsSnapshot(
            packets: ["DISCOVER": ["replied": 1204, "ignored": 31], "REQUEST:RENEW": ["replied": 5120, "dropped": 2]],
            repliesSent: ["OFFER": 1204, "ACK": 6011, "NAK": 14], drops: ["blocklisted": 40, "relay-not-allowed": 3],
            hookErrors: 1, hookTime: DurationTotal(count: 7400, seconds: 1.92), databaseLookups: DurationTotal(count: 6300, seconds: 3.1),
            databaseErrors: 1, cacheHits: 5740, reloads: 4, reloadFailures: 1)
    }

    func reload() async -> ReloadOutcome {
        ReloadOutcome(time: Date(), succeeded: true, durationSeconds: 0.0374)
    }
}

/// What a small Lua extension might register.
struct PreviewScripts: ScriptWebHost {
    func registrations() async -> WebRegistrations {
        WebRegistrations(
            headers: [],
            dashboardElements: [WebDashboardRegistration(id: 1, module: "dynamism", name: "pool 192.0.2.128/26", ordering: 10)],
            methods: [
                WebMethodRegistration(path: "/ext/dynamism/leases.csv", hidden: false, module: "dynamism", name: "leases (CSV)", displayMode: .raw),
                WebMethodRegistration(path: "/ext/dynamism/leases", hidden: false, module: "dynamism", name: "leases", displayMode: .template),
                WebMethodRegistration(path: "/ext/feed", hidden: false, module: "feedservice", name: "Atom feed", displayMode: .raw),
            ])
    }

    func callHeader(id: Int, request: WebCallbackRequest) async throws -> String? { nil }

    func callDashboardElement(id: Int, request: WebCallbackRequest) async throws -> String? {
        "<dl class=\"kv\"><dt>Leased</dt><dd>23 of 62</dd><dt>Free</dt><dd>39</dd><dt>Oldest lease</dt><dd>52:54:00:2a:01:9f, 51 min</dd></dl>"
    }

    func callMethod(path: String, request: WebCallbackRequest) async throws -> WebMethodOutput {
        switch path {
        case "/ext/dynamism/leases": return .fragment("<p>23 leases.</p>")
        case "/ext/feed": return .raw(mimetype: "application/atom+xml", body: Array("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>".utf8), headers: [:])
        default: return .raw(mimetype: "text/csv", body: Array("mac,ip\n52:54:00:2a:01:9f,192.0.2.130\n".utf8), headers: [:])
        }
    }
}

/// A reservation store in memory for the preview's reservations page.
actor PreviewStore: ReservationStore {
    var rows: [MAC: Reservation] = Dictionary(uniqueKeysWithValues: (0..<8).map { index in
        let mac = MAC(0x5254_0000_0000 | UInt64(0x10 + index) << 16 | UInt64((index * 37) % 256) << 8 | UInt64((index * 91) % 256))
        return (mac, Reservation(mac: mac, ip: IPv4(192, 0, 2, UInt8(20 + index * 3)), subnet: "192.0.2.0/24", serial: 0,
                                 hostname: index % 3 == 0 ? nil : "host-\(index)"))
    })

    func searchReservations(matching query: String, limit: Int) async throws -> [Reservation] {
        Array(rows.values.filter {
            query.isEmpty || $0.mac.description.contains(query) || $0.ip.description.contains(query) || ($0.hostname ?? "").contains(query)
        }.sorted { $0.mac < $1.mac }.prefix(limit))
    }
    func reservation(mac: MAC) async throws -> Reservation? { rows[mac] }
    func addReservation(_ reservation: Reservation) async throws {
        guard rows[reservation.mac] == nil else { throw ReservationInputError("\(reservation.mac) already has a reservation") }
        rows[reservation.mac] = reservation
    }
    func updateReservation(mac: MAC, with reservation: Reservation) async throws {
        rows[mac] = nil
        rows[reservation.mac] = reservation
    }
    func removeReservation(mac: MAC) async throws -> Bool { rows.removeValue(forKey: mac) != nil }
    var subnets: [SubnetRecord] = [
        SubnetRecord(subnet: "192.0.2.0/24", serial: 0, leaseTime: 3600, gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0),
                     broadcastAddress: IPv4(192, 0, 2, 255), domainName: "lab.example",
                     domainNameServers: [IPv4(192, 0, 2, 53), IPv4(192, 0, 2, 54)]),
        SubnetRecord(subnet: "198.51.100.0/24", serial: 0, leaseTime: 86_400, gateways: [IPv4(198, 51, 100, 1)],
                     subnetMask: IPv4(255, 255, 255, 0), ntpServers: [IPv4(198, 51, 100, 123)]),
    ]

    func listSubnets() async throws -> [SubnetRecord] { subnets }
    func addSubnet(_ subnet: SubnetRecord) async throws {
        guard !subnets.contains(where: { $0.subnet == subnet.subnet && $0.serial == subnet.serial }) else {
            throw ReservationInputError("subnet '\(subnet.subnet)' serial \(subnet.serial) already exists")
        }
        subnets.append(subnet)
    }
    func updateSubnet(_ subnet: SubnetRecord) async throws {
        guard let index = subnets.firstIndex(where: { $0.subnet == subnet.subnet && $0.serial == subnet.serial }) else {
            throw ReservationInputError("subnet '\(subnet.subnet)' serial \(subnet.serial) does not exist")
        }
        subnets[index] = subnet
    }
    func removeSubnet(subnet: String, serial: Int) async throws -> Bool {
        guard rows.values.allSatisfy({ $0.subnet != subnet || $0.serial != serial }) else {
            throw ReservationInputError("subnet '\(subnet)' serial \(serial) still has reservations; remove them first")
        }
        guard let index = subnets.firstIndex(where: { $0.subnet == subnet && $0.serial == serial }) else { return false }
        subnets.remove(at: index)
        return true
    }
}
