import DHCPWire
import Databases
import Foundation
import Synchronization
import Testing

/// The HTTP engine against a stub service on 127.0.0.1.
@Suite struct HTTPDatabaseTests {
    static let mac = MAC(0x0200_0000_0A01)

    static func settings(_ uri: String, _ edit: (inout DatabaseConfiguration.HTTP) -> Void = { _ in }) -> DatabaseConfiguration.HTTP {
        var settings = DatabaseConfiguration.HTTP()
        settings.uri = uri
        edit(&settings)
        return settings
    }

    /// A server answering every request with `response`, and an engine pointed at it.
    static func serving(
        _ response: StubResponse, _ edit: (inout DatabaseConfiguration.HTTP) -> Void = { _ in }
    ) async throws -> (StubHTTPServer, HTTPDatabase) {
        let server = try await StubHTTPServer.start { _ in response }
        return (server, try HTTPDatabase(settings: settings(server.uri, edit), logger: quietLogger))
    }

    @Test func postsTheMACWithParametersAndHeadersAndReadsAnObject() async throws {
        let (server, database) = try await Self.serving(.json("""
            {"ip": "192.0.2.40", "lease_time": 900, "subnet": "lab", "serial": 2, "hostname": "printer",
             "gateway": "192.0.2.1", "subnet_mask": "255.255.255.0", "broadcast_address": "192.0.2.255",
             "domain_name": "example.test", "domain_name_servers": ["192.0.2.53", "192.0.2.54"],
             "ntp_servers": "192.0.2.123", "extra": {"rack": 4, "tags": ["a", "b"], "owner": {"team": "net"}, "gone": null},
             "ignored_field": true}
            """)) {
            $0.headers = ["Authorization": "Bearer t0ken", "X-Site": "north"]
            $0.parameters = ["site": .string("north"), "level": .integer(3), "strict": .bool(true)]
        }
        defer { Task { await server.stop() } }
        let found = try await database.lookupMAC(Self.mac)
        #expect(found == [Definition(
            ip: IPv4(192, 0, 2, 40), leaseTime: 900, subnet: "lab", serial: 2, hostname: "printer",
            gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0), broadcastAddress: IPv4(192, 0, 2, 255),
            domainName: "example.test", domainNameServers: [IPv4(192, 0, 2, 53), IPv4(192, 0, 2, 54)],
            ntpServers: [IPv4(192, 0, 2, 123)],
            extra: ["rack": .integer(4), "tags": .list([.string("a"), .string("b")]), "owner": .table(["team": .string("net")])])])

        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/lookup")
        #expect(request.header("Authorization") == "Bearer t0ken")
        #expect(request.header("X-Site") == "north")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("Accept") == "application/json")
        let body = try #require(request.jsonObject)
        #expect(body["mac"] as? String == "02:00:00:00:0a:01")
        #expect(body["site"] as? String == "north")
        #expect(body["level"] as? Int == 3)
        #expect(body["strict"] as? Bool == true)
        #expect(body.count == 4)
    }

    @Test func getSendsTheSamePairsAsAQueryStringUnderTheConfiguredMACKey() async throws {
        let server = try await StubHTTPServer.start { _ in .json(#"{"ip": "192.0.2.41", "subnet": "lab"}"#) }
        defer { Task { await server.stop() } }
        let database = try HTTPDatabase(settings: Self.settings(server.uri + "?token=a%20b") {
            $0.post = false
            $0.macKey = "hw"
            $0.headers = ["X-Key": "k"]
            $0.parameters = ["site": .string("north & south"), "n": .double(1.5)]
        }, logger: quietLogger)
        #expect(try await database.lookupMAC(Self.mac).map(\.ip) == [IPv4(192, 0, 2, 41)])
        let request = try #require(server.requests.first)
        #expect(request.method == "GET")
        #expect(request.body.isEmpty)
        #expect(request.header("X-Key") == "k")
        #expect(request.header("Content-Type") == nil)
        #expect(request.query == ["token": "a b", "hw": "02:00:00:00:0a:01", "site": "north & south", "n": "1.5"])
    }

    @Test func anArrayAnswerReturnsEveryDefinitionInOrder() async throws {
        let (server, database) = try await Self.serving(.json("""
            [{"ip": "192.0.2.50", "subnet": "vlan10", "serial": 0, "lease_time": 60},
             {"ip": "198.51.100.50", "subnet": "vlan20", "serial": 1, "lease_time": 120, "gateway": ["198.51.100.1", "198.51.100.2"]}]
            """))
        defer { Task { await server.stop() } }
        let found = try await database.lookupMAC(Self.mac)
        #expect(found.map(\.ip) == [IPv4(192, 0, 2, 50), IPv4(198, 51, 100, 50)])
        #expect(found.map(\.subnet) == ["vlan10", "vlan20"])
        #expect(found.last?.gateways == [IPv4(198, 51, 100, 1), IPv4(198, 51, 100, 2)])
    }

    @Test(arguments: [
        StubResponse(status: 200, body: "null"), StubResponse(status: 200, body: ""), StubResponse(status: 200, body: " \n"),
        StubResponse(status: 200, body: "[]"), StubResponse(status: 404, body: "no such MAC"), StubResponse(status: 204, body: ""),
    ])
    func nullEmptyAnd404MeanUnknown(_ response: StubResponse) async throws {
        let (server, database) = try await Self.serving(response)
        defer { Task { await server.stop() } }
        #expect(try await database.lookupMAC(Self.mac).isEmpty)
    }

    @Test func missingLeaseTimeSerialAndNameServersComeFromTheDefaults() async throws {
        let (server, database) = try await Self.serving(.json(#"{"ip": "192.0.2.60", "subnet": "lab"}"#)) {
            $0.defaultLeaseTime = 7200
            $0.defaultSerial = 5
            $0.defaultNameServers = "192.0.2.53, 192.0.2.54"
        }
        defer { Task { await server.stop() } }
        #expect(try await database.lookupMAC(Self.mac) == [Definition(
            ip: IPv4(192, 0, 2, 60), leaseTime: 7200, subnet: "lab", serial: 5,
            domainNameServers: [IPv4(192, 0, 2, 53), IPv4(192, 0, 2, 54)])])
        // Present values win over the defaults, and the stock defaults are 0, 0 and none.
        let (other, plain) = try await Self.serving(.json(
            #"{"ip": "192.0.2.61", "subnet": "lab", "lease_time": 30, "serial": 1, "domain_name_servers": []}"#)) {
            $0.defaultNameServers = "192.0.2.53"
        }
        defer { Task { await other.stop() } }
        #expect(try await plain.lookupMAC(Self.mac) == [Definition(ip: IPv4(192, 0, 2, 61), leaseTime: 30, subnet: "lab", serial: 1)])
        let (third, stock) = try await Self.serving(.json(#"{"ip": "192.0.2.62", "subnet": "lab"}"#))
        defer { Task { await third.stop() } }
        #expect(try await stock.lookupMAC(Self.mac) == [Definition(ip: IPv4(192, 0, 2, 62), leaseTime: 0, subnet: "lab", serial: 0)])
    }

    @Test func aServerErrorNamesTheURIAndTheStatus() async throws {
        let (server, database) = try await Self.serving(StubResponse(status: 500, body: "database\non fire"))
        defer { Task { await server.stop() } }
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        #expect(error == .unavailable(
            engine: "HTTP", reason: "\(server.uri) answered 500 Internal Server Error for 02:00:00:00:0a:01: database on fire"))
    }

    /// A refusal of the request itself comes back on every lookup: it is a configuration error
    /// naming the setting to change (logged once per generation), not an outage.
    @Test(arguments: [
        (401, "put them in X_HTTPDB_URI (user:password@) or X_HTTPDB_HEADERS"),
        (403, "check X_HTTPDB_URI's user and password and X_HTTPDB_HEADERS"),
        (405, "set X_HTTPDB_POST = false to send a GET with a query string"),
        (422, "check X_HTTPDB_URI, X_HTTPDB_POST, X_HTTPDB_PARAMETERS and X_HTTPDB_PARAMETER_KEY_MAC"),
        (418, "check the X_HTTPDB_* settings"),
    ])
    func aRefusedRequestIsAConfigurationErrorNamingTheSetting(_ status: Int, _ fix: String) async throws {
        let (server, database) = try await Self.serving(StubResponse(status: status, body: "no"))
        defer { Task { await server.stop() } }
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        #expect(error?.isSchemaError == true)
        #expect(error?.description.contains("\(server.uri) answered \(status) ") == true)
        #expect(error?.description.contains(fix) == true, "\(String(describing: error))")
    }

    /// Statuses that mean "not now" stay outages, so the cache and the retry logic treat them so.
    @Test(arguments: [408, 429, 502, 503])
    func aBusyOrFailingServiceIsUnavailable(_ status: Int) async throws {
        let (server, database) = try await Self.serving(StubResponse(status: status, body: ""))
        defer { Task { await server.stop() } }
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        guard case .unavailable = error else {
            Issue.record("\(status) gave \(String(describing: error)), not unavailable")
            return
        }
    }

    @Test(arguments: [
        ("<html>oops</html>", "for 02:00:00:00:0a:01: the body is not JSON (it starts '<html>oops</html>')"),
        (#"{"ip": "nonsense", "subnet": "lab"}"#, "for 02:00:00:00:0a:01: field 'ip' is 'nonsense', not an IPv4 address"),
        (#"{"subnet": "lab"}"#, "for 02:00:00:00:0a:01: field 'ip' is missing; every definition needs an address"),
        (#"{"ip": "192.0.2.1"}"#, "for 02:00:00:00:0a:01: field 'subnet' is missing; every definition needs a subnet label"),
        (#"{"ip": "192.0.2.1", "subnet": "lab", "lease_time": "soon"}"#,
         "for 02:00:00:00:0a:01: field 'lease_time' is 'soon', not a lease time in seconds"),
        (#"{"ip": "192.0.2.1", "subnet": "lab", "lease_time": -5}"#,
         "for 02:00:00:00:0a:01: field 'lease_time' is '-5', not a lease time in seconds"),
        (#"{"ip": "192.0.2.1", "subnet": "lab", "gateway": ["192.0.2.1", 7]}"#,
         "for 02:00:00:00:0a:01: field 'gateway' holds a number ('7'), not an IPv4 address string"),
        (#"{"ip": "192.0.2.1", "subnet": "lab", "domain_name_servers": "192.0.2.53, dns"}"#,
         "for 02:00:00:00:0a:01: field 'domain_name_servers' holds 'dns', not an IPv4 address"),
        (#"{"ip": "192.0.2.1", "subnet": "lab", "extra": [1]}"#,
         "for 02:00:00:00:0a:01: field 'extra' is an array ('[1]'), not an object"),
        (#"{"ip": "192.0.2.1", "subnet": "lab", "hostname": false}"#,
         "for 02:00:00:00:0a:01: field 'hostname' is a boolean ('false'), not a string"),
        (#""192.0.2.1""#,
         "for 02:00:00:00:0a:01: the answer is a string ('192.0.2.1'), not a definition object, an array of them or null"),
        (#"[{"ip": "192.0.2.1", "subnet": "lab"}, 3]"#, "for 02:00:00:00:0a:01: definition 2 of 2 is a number, not an object"),
        (#"[{"ip": "192.0.2.1", "subnet": "lab"}, {"ip": "192.0.2.999", "subnet": "lab"}]"#,
         "for 02:00:00:00:0a:01: definition 2 of 2: field 'ip' is '192.0.2.999', not an IPv4 address"),
    ])
    func aBadAnswerNamesTheURIAndExactlyWhatWasWrong(_ body: String, _ reason: String) async throws {
        let (server, database) = try await Self.serving(.json(body))
        defer { Task { await server.stop() } }
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        #expect(error == .badAnswer(engine: "HTTP", source: server.uri, reason: reason))
        #expect(error?.description.hasPrefix("HTTP database at \(server.uri) answered badly: ") == true)
    }

    @Test func anOversizedAnswerIsRefused() async throws {
        let (server, database) = try await Self.serving(.json("[" + String(repeating: "null,", count: 400) + "null]")) {
            $0.maximumAnswerBytes = 1000
        }
        defer { Task { await server.stop() } }
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        #expect(error?.description.contains("larger than 1000 bytes") == true)
    }

    @Test func aServiceThatIsDownAtStartIsUsedOnceItComesUp() async throws {
        // Find a free port by binding and releasing it; nothing listens there yet.
        let probe = try await StubHTTPServer.start { _ in StubResponse() }
        let port = probe.port
        await probe.stop()
        let uri = "http://127.0.0.1:\(port)/lookup"
        let database = try HTTPDatabase(settings: Self.settings(uri), logger: quietLogger)
        let started = ContinuousClock.now
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        // The client retries for its 2 s connect timeout (not the 30 s request time limit); the
        // bound leaves room for a machine busy with the other suites.
        #expect(ContinuousClock.now - started < .seconds(15))
        guard case .unavailable(let engine, let reason) = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(engine == "HTTP")
        #expect(reason.hasPrefix(uri + ": "), "\(reason)")
        #expect(reason.contains("cannot connect: Connection re"), "refused or reset: \(reason)")

        let server = try await StubHTTPServer.start(port: port) { _ in .json(#"{"ip": "192.0.2.70", "subnet": "lab"}"#) }
        defer { Task { await server.stop() } }
        #expect(try await database.lookupMAC(Self.mac).map(\.ip) == [IPv4(192, 0, 2, 70)])
    }

    @Test func theConcurrencyLimitBoundsRequestsInFlightAndQueuesTheRest() async throws {
        let (server, database) = try await Self.serving(StubResponse(body: #"{"ip": "192.0.2.80", "subnet": "lab"}"#, delay: 0.2)) {
            $0.concurrencyLimit = 2
        }
        defer { Task { await server.stop() } }
        let started = ContinuousClock.now
        let answers = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<6 {
                group.addTask { try await database.lookupMAC(MAC(UInt64(0x0200_0000_0B00 + index))).count }
            }
            return try await group.reduce(0, +)
        }
        #expect(answers == 6)
        #expect(server.requests.count == 6)
        #expect(server.peakConcurrency == 2)
        #expect(ContinuousClock.now - started >= .milliseconds(550), "six 200 ms requests two at a time take three rounds")
    }

    @Test func withoutALimitRequestsRunTogether() async throws {
        let (server, database) = try await Self.serving(StubResponse(body: #"{"ip": "192.0.2.81", "subnet": "lab"}"#, delay: 0.3))
        defer { Task { await server.stop() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask { _ = try await database.lookupMAC(MAC(UInt64(0x0200_0000_0C00 + index))) }
            }
            try await group.waitForAll()
        }
        #expect(server.peakConcurrency == 4)
    }

    @Test func aTimedOutLookupGivesUpItsSlotAndItsPlaceInTheQueue() async throws {
        let slow = MAC(0x0200_0000_0D01)
        let server = try await StubHTTPServer.start { request in
            let isSlow = request.jsonObject?["mac"] as? String == slow.description
            return StubResponse(body: #"{"ip": "192.0.2.90", "subnet": "lab"}"#, delay: isSlow ? 3 : 0)
        }
        defer { Task { await server.stop() } }
        var config = DatabaseConfiguration(engine: .named("HTTP"))
        config.http = Self.settings(server.uri) { $0.concurrencyLimit = 1 }
        config.lookupTimeout = 0.4
        let database = try DatabaseFactory.make(config, logger: quietLogger)
        async let first: Void = {
            let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(slow) }
            #expect(error == .timeout(engine: "HTTP", seconds: 0.4))
        }()
        try await Task.sleep(for: .milliseconds(50))
        // Queued behind the slow one, and times out there.
        await #expect(throws: DatabaseError.self) { try await database.lookupMAC(slow) }
        await first
        let started = ContinuousClock.now
        #expect(try await database.lookupMAC(Self.mac).map(\.ip) == [IPv4(192, 0, 2, 90)])
        #expect(ContinuousClock.now - started < .milliseconds(400))
    }

    @Test func theFactoryBuildsItAndTheCacheAnswersRepeats() async throws {
        let server = try await StubHTTPServer.start(HTTPReservations.handler())
        defer { Task { await server.stop() } }
        var config = DatabaseConfiguration(engine: .named("HTTP"))
        config.http.uri = server.uri
        config.useCache = true
        let database = try DatabaseFactory.make(config, logger: quietLogger)
        #expect(database.engineName == "HTTP")
        let alpha = ReservationSet.expected[ReservationSet.alpha]!
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alpha])
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alpha])
        #expect(try await database.lookupMAC(ReservationSet.unknown).isEmpty)
        #expect(try await database.lookupMAC(ReservationSet.unknown).isEmpty)
        #expect(server.requests.count == 3, "the repeat of a known MAC is a cache hit; unknowns are never cached")
    }

    @Test(arguments: [
        ({ @Sendable (_: inout DatabaseConfiguration.HTTP) in }, "DATABASE_ENGINE 'HTTP' needs X_HTTPDB_URI, which is not set"),
        ({ $0.uri = "ftp://192.0.2.1/x" }, "X_HTTPDB_URI 'ftp://192.0.2.1/x' is not an http:// or https:// URI"),
        ({ $0.uri = "192.0.2.1/lookup" }, "X_HTTPDB_URI '192.0.2.1/lookup' is not an http:// or https:// URI"),
        ({ $0.uri = "http:///lookup" }, "X_HTTPDB_URI 'http:///lookup' names no host"),
        ({ $0.uri = "http://127.0.0.1/"; $0.headers = ["Bad Header": "x"] },
         "X_HTTPDB_HEADERS: 'Bad Header' is not a valid HTTP header name"),
        ({ $0.uri = "http://127.0.0.1/"; $0.headers = ["X-A": "x\r\nInjected: y"] },
         "X_HTTPDB_HEADERS: the value of 'X-A' contains a line break or NUL"),
        ({ $0.uri = "http://127.0.0.1/"; $0.parameters = ["mac": .string("x")] },
         "X_HTTPDB_PARAMETERS has a key 'mac', which X_HTTPDB_PARAMETER_KEY_MAC reserves for the MAC"),
        ({ $0.uri = "http://127.0.0.1/"; $0.post = false; $0.parameters = ["t": .list([.integer(1)])] },
         "X_HTTPDB_PARAMETERS: 't' is a table, which a GET query string (X_HTTPDB_POST = false) cannot carry"),
        ({ $0.uri = "http://127.0.0.1/"; $0.macKey = "" }, "X_HTTPDB_PARAMETER_KEY_MAC must not be empty"),
        ({ $0.uri = "http://127.0.0.1/"; $0.defaultNameServers = "192.0.2.53, resolver" },
         "X_HTTPDB_DEFAULT_NAME_SERVERS: 'resolver' is not an IPv4 address"),
        ({ $0.uri = "http://127.0.0.1/"; $0.defaultLeaseTime = -1 },
         "X_HTTPDB_DEFAULT_LEASE_TIME -1 is not a lease time (0...4294967295 seconds)"),
        ({ $0.uri = "http://127.0.0.1/"; $0.concurrencyLimit = 0 },
         "X_HTTPDB_CONCURRENCY_LIMIT must be at least 1 (or nil for no limit), not 0"),
    ] as [(@Sendable (inout DatabaseConfiguration.HTTP) -> Void, String)])
    func badSettingsAreRefusedByName(_ edit: @Sendable (inout DatabaseConfiguration.HTTP) -> Void, _ message: String) throws {
        var config = DatabaseConfiguration(engine: .named("HTTP"))
        edit(&config.http)
        let error = #expect(throws: DatabaseError.self) { try DatabaseFactory.make(config, logger: quietLogger) }
        #expect(error == .configuration(message))
    }

    @Test func credentialsInTheURIStayOutOfErrors() async throws {
        let server = try await StubHTTPServer.start { _ in StubResponse(status: 503) }
        defer { Task { await server.stop() } }
        let database = try HTTPDatabase(
            settings: Self.settings("http://user:pa55@127.0.0.1:\(server.port)/lookup"), logger: quietLogger)
        let error = await #expect(throws: DatabaseError.self) { try await database.lookupMAC(Self.mac) }
        #expect(error?.description.contains("pa55") == false)
        #expect(error?.description.contains("http://127.0.0.1:\(server.port)/lookup answered 503") == true)
        #expect(server.requests.first?.header("Authorization")?.hasPrefix("Basic ") == true)
    }
}
