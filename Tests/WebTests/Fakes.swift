import DHCPWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import Web

/// A dashboard source with fixed data that counts reloads.
actor FakeSource: DashboardSource {
    let start = Date(timeIntervalSince1970: 1_790_000_000)
    var reloadCount = 0
    var reloadSucceeds = true
    var records: [LogRecord] = [
        LogRecord(time: Date(timeIntervalSince1970: 1_790_000_100), level: .warning, logger: "main", message: "<script>alert(1)</script> blocked"),
        LogRecord(time: Date(timeIntervalSince1970: 1_790_000_050), level: .info, logger: "main", message: "DHCP server started"),
    ]

    func setReloadSucceeds(_ value: Bool) { reloadSucceeds = value }

    func status() async -> StatusSnapshot {
        StatusSnapshot(
            startTime: start, configGeneration: 3 + reloadCount,
            lastReload: ReloadOutcome(time: start.addingTimeInterval(60), succeeded: false, durationSeconds: 0.012, error: "conf.lua:12: unexpected symbol"),
            sockets: ["udp 192.0.2.1:67"], databaseEngine: "SQLite", cacheHitRate: 0.875,
            store: "PostgreSQL staticdhcpd_store on 192.0.2.5:5432/dhcp",
            peers: [
                .init(name: "dhcp-a", host: "a", serverIP: "192.0.2.1", version: "1", configGeneration: 3,
                      lastHeard: start.addingTimeInterval(3598), isSelf: true),
                .init(name: "dhcp-b", host: "b", serverIP: "192.0.2.2", version: "1", configGeneration: 7,
                      lastHeard: start.addingTimeInterval(3560), isSelf: false),
            ])
    }

    func activity() async -> ActivitySeries {
        ActivitySeries(intervalSeconds: 10, end: start.addingTimeInterval(3600), series: [
            "DISCOVER": (0..<360).map { Double($0 % 20) / 4 },
            "REQUEST": (0..<360).map { Double(($0 + 7) % 30) / 6 },
        ])
    }

    func recentClients() async -> [RecentClient] {
        [RecentClient(mac: "aa:bb:cc:dd:ee:01", method: "REQUEST:SELECTING", ip: "192.0.2.10", subnet: "192.0.2.0/24", serial: 0, port: 67, time: start.addingTimeInterval(3590), outcome: "ACK")]
    }

    func logRecords() async -> [LogRecord] { records }

    func metrics() async -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(
            packets: ["DISCOVER": ["replied": 10, "ignored": 2]], repliesSent: ["OFFER": 10], drops: ["blocklisted": 1],
            hookErrors: 1, hookTime: DurationTotal(count: 12, seconds: 0.25), databaseLookups: DurationTotal(count: 10, seconds: 0.5),
            databaseErrors: 0, cacheHits: 7, reloads: reloadCount, reloadFailures: 0)
        snapshot.abuseEvictions = 4_500
        snapshot.scripted = [
            ScriptedMetric(name: "pool_free", help: "Free.", type: "gauge", labels: ["pool": "lab"], value: 7),
            ScriptedMetric(name: "packets_total", help: "", type: "counter", labels: [:], value: 99),
            ScriptedMetric(name: "pool_free", help: "Free.", type: "gauge", labels: ["pool": "a\"b"], value: 3),
        ]
        return snapshot
    }

    func reload() async -> ReloadOutcome {
        reloadCount += 1
        return reloadSucceeds
            ? ReloadOutcome(time: start, succeeded: true, durationSeconds: 0.0421)
            : ReloadOutcome(time: start, succeeded: false, durationSeconds: 0.01, error: "conf.lua:3: <bad> token")
    }
}

/// An in-memory reservation store.
actor FakeStore: ReservationStore {
    var rows: [MAC: Reservation] = [
        MAC(0xaabb_ccdd_ee01): Reservation(mac: MAC(0xaabb_ccdd_ee01), ip: IPv4(192, 0, 2, 10), subnet: "192.0.2.0/24", serial: 0, hostname: "printer"),
    ]
    var subnets: [SubnetRecord] = [SubnetRecord(subnet: "192.0.2.0/24", serial: 0, leaseTime: 3600)]

    func searchReservations(matching query: String, limit: Int) async throws -> [Reservation] {
        let all = rows.values.sorted { $0.mac < $1.mac }
        guard !query.isEmpty else { return Array(all.prefix(limit)) }
        return Array(all.filter { [$0.mac.description, $0.ip.description, $0.hostname ?? "", $0.subnet].contains { $0.contains(query) } }.prefix(limit))
    }
    func reservation(mac: MAC) async throws -> Reservation? { rows[mac] }
    func addReservation(_ reservation: Reservation) async throws {
        guard rows[reservation.mac] == nil else { throw ReservationInputError("\(reservation.mac) already has a reservation") }
        guard subnets.contains(where: { $0.subnet == reservation.subnet && $0.serial == reservation.serial }) else {
            throw ReservationInputError("unknown subnet \(reservation.subnet) serial \(reservation.serial)")
        }
        rows[reservation.mac] = reservation
    }
    func updateReservation(mac: MAC, with reservation: Reservation) async throws {
        guard rows.removeValue(forKey: mac) != nil else { throw ReservationInputError("there is no reservation for \(mac)") }
        rows[reservation.mac] = reservation
    }
    func removeReservation(mac: MAC) async throws -> Bool { rows.removeValue(forKey: mac) != nil }
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
        guard let index = subnets.firstIndex(where: { $0.subnet == subnet && $0.serial == serial }) else { return false }
        let users = rows.values.filter { $0.subnet == subnet && $0.serial == serial }.count
        guard users == 0 else {
            throw ReservationInputError("subnet '\(subnet)' serial \(serial) still has \(users) reservation(s); remove them first")
        }
        subnets.remove(at: index)
        return true
    }
    func subnet(_ label: String, serial: Int = 0) -> SubnetRecord? {
        subnets.first { $0.subnet == label && $0.serial == serial }
    }
}

/// A script host imitating what a Lua extension registers: a header, a dashboard element, and one
/// method per display mode, plus a failing and a hanging callback.
struct FakeScripts: ScriptWebHost {
    var failingElement = false
    var slowElement = false

    func registrations() async -> WebRegistrations {
        var elements = [WebDashboardRegistration(id: 1, module: "lab", name: "greeting", ordering: -500)]
        if failingElement { elements.append(WebDashboardRegistration(id: 2, module: "lab", name: "broken", ordering: 5)) }
        if slowElement { elements.append(WebDashboardRegistration(id: 3, module: "lab", name: "sleepy", ordering: 6)) }
        return WebRegistrations(
            headers: [WebHeaderRegistration(id: 1)],
            dashboardElements: elements,
            methods: [
                WebMethodRegistration(path: "/ext/raw", hidden: true, displayMode: .raw),
                WebMethodRegistration(path: "/ext/raw-headers", cacheable: true, hidden: true, displayMode: .raw),
                WebMethodRegistration(path: "/ext/template", hidden: false, module: "lab", name: "template page", displayMode: .template),
                WebMethodRegistration(path: "/ext/dashboard", hidden: false, module: "lab", name: "dashboard page", confirm: true, displayMode: .dashboard),
                WebMethodRegistration(path: "/ext/secret", hidden: false, secure: true, module: "lab", name: "secret", displayMode: .template),
                WebMethodRegistration(path: "/ext/public", hidden: true, isPublic: true, displayMode: .raw),
                WebMethodRegistration(path: "/ext/json", hidden: true, jsonAPI: true, displayMode: .raw),
                WebMethodRegistration(path: "/ext/fails", hidden: true, displayMode: .template),
                WebMethodRegistration(path: "/ext/fails-raw", hidden: true, displayMode: .raw),
                WebMethodRegistration(path: "/ext/hangs", hidden: true, displayMode: .raw),
            ])
    }

    func callHeader(id: Int, request: WebCallbackRequest) async throws -> String? {
        "<meta name=\"lab-extension\" content=\"loaded\">"
    }

    func callDashboardElement(id: Int, request: WebCallbackRequest) async throws -> String? {
        switch id {
        case 1: return "<p id=\"greeting\">hello from Lua</p>"
        case 2: throw ScriptFailure(text: "conf.lua:42: attempt to index a nil value (secret internals)")
        default:
            try await Task.sleep(for: .seconds(30))
            return "<p>too late</p>"
        }
    }

    func callMethod(path: String, request: WebCallbackRequest) async throws -> WebMethodOutput {
        switch path {
        case "/ext/raw", "/ext/public", "/ext/json":
            let name = request.queryArguments["name"]?.first ?? "nobody"
            let posted = request.data.map { String(decoding: $0, as: UTF8.self) } ?? "-"
            return .raw(mimetype: "text/plain", body: Array("hello \(name) \(request.mimetype ?? "-") \(posted)".utf8), headers: [:])
        case "/ext/raw-headers":
            return .raw(mimetype: "text/csv", body: Array("a,b\n".utf8), headers: ["X-Extension": "yes", "Content-Length": "9999"])
        case "/ext/template": return .fragment("<p id=\"templated\">template body</p>")
        case "/ext/dashboard": return .fragment("<p id=\"dashboarded\">dashboard body</p>")
        case "/ext/secret": return .fragment("<p>secret body</p>")
        case "/ext/fails", "/ext/fails-raw": throw ScriptFailure(text: "stack traceback: [C]: in function 'error' (internals)")
        default:
            // Ignores cancellation, like a Lua callback stuck in a loop.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { continuation.resume() }
            }
            return .raw(mimetype: "text/plain", body: [], headers: [:])
        }
    }
}

struct ScriptFailure: Error { let text: String }

/// A clock tests can move.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ date: Date) { current = date }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

let testCSRFSecret = "test-csrf-secret"
/// The token of the operator of a test server without credentials (default SYSTEM_NAME).
let testCSRF = CSRFTokens(secret: testCSRFSecret).token(for: nil, realm: WebConfiguration().realm)
/// The token of user "admin" on a test server with credentials (default SYSTEM_NAME).
let adminCSRF = CSRFTokens(secret: testCSRFSecret).token(for: "admin", realm: WebConfiguration().realm)

struct Harness {
    var configuration = WebConfiguration()
    var source = FakeSource()
    var store: FakeStore? = FakeStore()
    var scripts: FakeScripts? = FakeScripts()
    /// nil: the daemon offers no leases page (most tests do not look at it).
    var leases: FakeLeases?
    /// nil: no /explain page.
    var explainer: FakeExplainer?
    var clock = TestClock(Date(timeIntervalSince1970: 1_790_003_600))
    /// Whether the test client counts as a loopback peer (the `.router` framework has no socket).
    var clientIsLoopback = true

    init(_ configure: (inout WebConfiguration) -> Void = { _ in }) {
        configuration.callbackTimeout = .milliseconds(300)
        configure(&configuration)
    }

    func run<Value: Sendable>(_ test: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await run { _, client in try await test(client) }
    }

    /// `run`, also handing the test the server (to reconfigure it while it serves).
    func run<Value: Sendable>(_ test: @Sendable (WebServer, any TestClientProtocol) async throws -> Value) async throws -> Value {
        let clock = self.clock
        let server = WebServer(
            config: configuration, source: source, reservations: store, scripts: scripts, leases: leases,
            explainer: explainer, logger: Logger(label: "web-test"), csrfSecret: testCSRFSecret,
            addresslessPeerIsLoopback: clientIsLoopback, now: { clock.now })
        let app = Application(responder: server.makeResponder())
        return try await app.test(.router) { client in try await test(server, client) }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    func headerValues(_ name: String) -> [String] { headers[values: HTTPField.Name(name)!] }
}

func formBody(_ pairs: [(String, String)]) -> ByteBuffer {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
    let text = pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    return ByteBuffer(string: text)
}

let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
let jsonHeaders: HTTPFields = [.contentType: "application/json"]
let csrfHeader = HTTPField.Name("X-CSRF-Token")!
