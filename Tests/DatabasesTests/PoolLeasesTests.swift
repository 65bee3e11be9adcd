import Databases
import Foundation
import Testing

/// `staticdhcpd leases`: dynamism's leases read from and released in either store.
@Suite struct PoolLeasesTests {
    static let rows = [
        StoreRow(key: "dynamism/lab/A/198.051.100.010", value: #"{"mac":"02:00:00:00:00:01","state":"bound","expires":1800000000}"#),
        StoreRow(key: "dynamism/lab/A/198.051.100.011", value: #"{"mac":"02:00:00:00:00:02"}"#), // the layout before
        StoreRow(key: "dynamism/lab/A/198.051.100.012", value: #"{"quarantined":1800000100,"declined_by":"02:00:00:00:00:03"}"#),
        StoreRow(key: "dynamism/lab/L/02:00:00:00:00:01", value: #"{"ip":"198.51.100.10","state":"bound","expires":1800000000}"#),
        StoreRow(key: "dynamism/lab/L/02:00:00:00:00:02", value: #"{"ip":"198.51.100.11","state":"offered","expires":1800000050}"#),
        StoreRow(key: "feedservice/records", value: "[]"),
    ]

    /// `staticdhcpd leases --json` prints the expiry as the store keeps it, whole seconds since the epoch.
    @Test func jsonShowsTheExpiryInWholeSeconds() throws {
        let lease = PoolLease(pool: "lab", mac: "02:00:00:00:00:01", ip: "198.51.100.10", state: "bound",
                              expires: Date(timeIntervalSince1970: 1_800_000_000), hostname: "kiosk")
        #expect(try PoolLeases.json([lease]) == """
            [
              {
                "expires" : 1800000000,
                "hostname" : "kiosk",
                "ip" : "198.51.100.10",
                "mac" : "02:00:00:00:00:01",
                "pool" : "lab",
                "state" : "bound"
              }
            ]
            """)
    }

    @Test func leasesAreReadInBothLayoutsWithQuarantines() {
        #expect(PoolLeases.leases(in: Self.rows) == [
            PoolLease(pool: "lab", mac: "02:00:00:00:00:01", ip: "198.51.100.10", state: "bound", expires: Date(timeIntervalSince1970: 1_800_000_000)),
            PoolLease(pool: "lab", mac: "02:00:00:00:00:02", ip: "198.51.100.11", state: "offered", expires: Date(timeIntervalSince1970: 1_800_000_050)),
            PoolLease(pool: "lab", mac: "02:00:00:00:00:03", ip: "198.51.100.12", state: "quarantined", expires: Date(timeIntervalSince1970: 1_800_000_100)),
        ])
        #expect(PoolLeases.csv(PoolLeases.leases(in: Self.rows)).hasPrefix("pool,mac,ip,state,expires,hostname\nlab,02:00:00:00:00:01,198.51.100.10,bound,2027-01-15T08:00:00Z,\n"))
    }

    @Test func theClientsHostnameIsReadWhenRecordedAndQuotedInCSV() {
        let rows = [
            StoreRow(key: "dynamism/lab/A/198.051.100.020", value: #"{"mac":"02:00:00:00:00:20","state":"bound","expires":1800000000,"hostname":"kiosk, \"hall\""}"#),
            // A damaged hostname costs the hostname, not the lease.
            StoreRow(key: "dynamism/lab/A/198.051.100.021", value: #"{"mac":"02:00:00:00:00:21","state":"offered","expires":1800000000,"hostname":42}"#),
        ]
        let leases = PoolLeases.leases(in: rows)
        #expect(leases.map(\.hostname) == ["kiosk, \"hall\"", nil])
        #expect(leases.map(\.state) == ["bound", "offered"])
        #expect(PoolLeases.csv(leases).split(separator: "\n", omittingEmptySubsequences: false) == [
            "pool,mac,ip,state,expires,hostname",
            #"lab,02:00:00:00:00:20,198.51.100.20,bound,2027-01-15T08:00:00Z,"kiosk, ""hall""""#,
            "lab,02:00:00:00:00:21,198.51.100.21,offered,2027-01-15T08:00:00Z,",
            "",
        ])
    }

    @Test func releasingDeletesTheIndexAndTheHolderInOneTransaction() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-leases-\(UUID().uuidString)").path
        let store = try KeyValueStore(directory: directory)
        for row in Self.rows { try store.put(row.key, row.value) }
        let released = try await PoolLeases.release("02:00:00:00:00:01", in: .local(store))
        #expect(released.map(\.ip) == ["198.51.100.10"])
        #expect(try store.get("dynamism/lab/A/198.051.100.010") == nil)
        #expect(try store.get("dynamism/lab/L/02:00:00:00:00:01") == nil)
        #expect(try await PoolLeases.read(from: .local(store)).map(\.mac) == ["02:00:00:00:00:02", "02:00:00:00:00:03"])
        #expect(try await PoolLeases.release("02:00:00:00:00:09", in: .local(store)).isEmpty)
    }

    @Test(.enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
    func theSharedStoreToo() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let store = try PostgreSQLStore(settings: SharedStoreTests.settings(server), timeout: 5, logger: quietLogger)
        for row in Self.rows { _ = try await store.perform(.put(row.key, row.value), in: nil) }
        #expect(try await PoolLeases.read(from: .remote(store)).count == 3)
        #expect(try await PoolLeases.release("02:00:00:00:00:02", in: .remote(store)).map(\.ip) == ["198.51.100.11"])
        #expect(try await PoolLeases.read(from: .remote(store)).map(\.mac) == ["02:00:00:00:00:01", "02:00:00:00:00:03"])
    }
}
