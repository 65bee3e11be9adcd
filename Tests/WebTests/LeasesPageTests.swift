import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// `/leases` and `/api/leases`, `/api/pools`: listing, search, utilisation, and releasing a lease
/// only with credentials and the CSRF token.
@Suite struct LeasesPageTests {
    func withLeases(_ configure: (inout WebConfiguration) -> Void = { _ in }) -> Harness {
        var harness = Harness(configure)
        harness.leases = FakeLeases()
        return harness
    }

    func authenticated() -> Harness {
        withLeases { $0.digestUsername = "admin"; $0.digestPassword = "s3cret" }
    }

    /// Sends `uri` with digest credentials, answering the challenge first.
    func send(_ client: some TestClientProtocol, _ uri: String, _ method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> TestResponse {
        let challenge = DigestClient.challenges(try await client.execute(uri: uri, method: method, headers: headers, body: body))[0]
        var headers = headers
        headers[.authorization] = DigestClient().authorization(challenge, method: method.rawValue, uri: uri, nc: 1)
        return try await client.execute(uri: uri, method: method, headers: headers, body: body)
    }

    func release(_ client: some TestClientProtocol, _ mac: String, csrf: String? = adminCSRF) async throws -> TestResponse {
        var pairs = [("action", "release"), ("mac", mac)]
        if let csrf { pairs.append(("csrf", csrf)) }
        return try await send(client, "/leases", .post, headers: formHeaders, body: formBody(pairs))
    }

    /// The MACs in the lease table of `html`, in order.
    func listedMACs(_ html: String) -> [String] {
        guard let table = html.range(of: "<table class=\"data\" id=\"leases\">") else { return [] }
        let pattern = #/<td class="mono">([0-9a-f:]{17})</td>/#
        return html[table.upperBound...].matches(of: pattern).map { String($0.output.1) }
    }

    @Test func listingShowsEveryLeaseWithItsStateAndHostname() async throws {
        try await withLeases().run { client in
            let page = try await client.execute(uri: "/leases", method: .get)
            #expect(page.status == .ok)
            let html = page.text
            #expect(listedMACs(html) == ["aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02", "aa:bb:cc:00:00:03", "aa:bb:cc:00:00:04"])
            #expect(html.contains("<p class=\"count\">4 leases.</p>"))
            #expect(html.contains("<td>Laptop-Anna</td><td>bound</td>"))
            // A bound lease past its time is shown as expired; a quarantine as such.
            #expect(html.contains("<td>printer</td><td>expired</td>"))
            #expect(html.contains("<td>–</td><td>quarantined</td>"))
            #expect(html.contains("(in 30m 00s)"))
            #expect(html.contains("(1m 00s ago)"))
            // Without credentials configured the page is read-only: no release forms.
            #expect(html.contains("Read-only: releasing leases needs WEB_DIGEST_USERNAME"))
            #expect(!html.contains("value=\"release\""))
            // The sidebar links to the page.
            let dashboard = try await client.execute(uri: "/", method: .get).text
            #expect(dashboard.contains("<a href=\"/leases\">leases</a>"))
            #expect(html.contains("<a href=\"/leases\" class=\"current\">leases</a>"))
        }
    }

    @Test func searchFindsByMACAddressOrHostnameIgnoringCase() async throws {
        try await withLeases().run { client in
            let byMAC = try await client.execute(uri: "/leases?q=AA-BB-CC-00-00-02", method: .get).text
            #expect(listedMACs(byMAC) == ["aa:bb:cc:00:00:02"])
            #expect(byMAC.contains("value=\"AA-BB-CC-00-00-02\""))
            let byAddress = try await client.execute(uri: "/leases?q=203.0.113", method: .get).text
            #expect(listedMACs(byAddress) == ["aa:bb:cc:00:00:04"])
            let byHostname = try await client.execute(uri: "/leases?q=laptop", method: .get).text
            #expect(listedMACs(byHostname) == ["aa:bb:cc:00:00:01"])
            let partial = try await client.execute(uri: "/leases?q=198.51.100.1", method: .get).text
            #expect(listedMACs(partial) == ["aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02", "aa:bb:cc:00:00:03"])
            let none = try await client.execute(uri: "/leases?q=nobody", method: .get).text
            #expect(listedMACs(none).isEmpty)
            #expect(none.contains("No leases match."))

            let api = try await client.execute(uri: "/api/leases?q=PRINTER", method: .get)
            #expect(api.status == .ok)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let found = try decoder.decode([PoolLease].self, from: Data(api.text.utf8))
            #expect(found.map(\.mac) == ["aa:bb:cc:00:00:03"])
            #expect(found.first?.hostname == "printer")
            let limited = try decoder.decode([PoolLease].self, from: Data(try await client.execute(uri: "/api/leases?limit=2", method: .get).text.utf8))
            #expect(limited.count == 2)
            let badLimit = try await client.execute(uri: "/api/leases?limit=0", method: .get)
            #expect(badLimit.status == .badRequest)
        }
    }

    @Test func matchingIsASubstringOfMACAddressOrHostname() {
        let lease = PoolLease(pool: "p", mac: "02:00:5e:10:00:01", ip: "192.0.2.77", state: "bound", expires: Date(), hostname: "Kiosk-3")
        #expect(lease.matches(""))
        #expect(lease.matches("5E:10"))
        #expect(lease.matches("02-00-5e"))
        #expect(lease.matches("2.77"))
        #expect(lease.matches(" kiosk "))
        #expect(!lease.matches("kiosk-4"))
        #expect(!lease.matches("192.0.2.78"))
        // The pool and the state are not searched.
        #expect(!lease.matches("bound"))
        var nameless = lease
        nameless.hostname = nil
        #expect(!nameless.matches("kiosk"))
    }

    @Test func utilisationIsLeasedPlusOfferedOverSize() throws {
        let gauges = [
            ScriptedMetric(name: "pool_addresses", help: "", type: "gauge", labels: ["pool": "guests"], value: 200),
            ScriptedMetric(name: "pool_leased", help: "", type: "gauge", labels: ["pool": "guests"], value: 45),
            ScriptedMetric(name: "pool_offered", help: "", type: "gauge", labels: ["pool": "guests"], value: 5),
            ScriptedMetric(name: "pool_expired", help: "", type: "gauge", labels: ["pool": "guests"], value: 10),
            ScriptedMetric(name: "pool_quarantined", help: "", type: "gauge", labels: ["pool": "guests"], value: 2),
            ScriptedMetric(name: "pool_free", help: "", type: "gauge", labels: ["pool": "guests"], value: 138),
            ScriptedMetric(name: "pool_addresses", help: "", type: "gauge", labels: ["pool": "empty"], value: 0),
            // Samples without pool_addresses, without a pool label, or of other names are not pools.
            ScriptedMetric(name: "pool_leased", help: "", type: "gauge", labels: ["pool": "orphan"], value: 3),
            ScriptedMetric(name: "pool_addresses", help: "", type: "gauge", labels: [:], value: 9),
            ScriptedMetric(name: "guests_online", help: "", type: "gauge", labels: ["pool": "guests"], value: 99),
        ]
        let pools = PoolUsage.fromDynamismGauges(gauges)
        #expect(pools.map(\.pool) == ["guests", "empty"])
        let guests = try #require(pools.first)
        #expect(guests == PoolUsage(pool: "guests", size: 200, leased: 45, offered: 5, expired: 10, quarantined: 2, free: 138))
        #expect(guests.inUse == 50)
        #expect(guests.utilisation == 0.25)
        #expect(pools.last?.utilisation == 0)
    }

    @Test func pageAndAPIShowEachPoolsUtilisation() async throws {
        try await withLeases().run { client in
            let html = try await client.execute(uri: "/leases", method: .get).text
            #expect(html.contains("<meter min=\"0\" max=\"10\" low=\"7\" high=\"9\" optimum=\"0\" value=\"2\" title=\"2 of 10 in use\">20.0 %</meter>"))
            #expect(html.contains("2 / 10 (20.0 %)"))
            #expect(html.contains("0 / 4 (0.0 %)"))
            // The pools element comes before the leases.
            #expect(html.range(of: "id=\"pools-element\"")!.lowerBound < html.range(of: "id=\"leases-element\"")!.lowerBound)
            let api = try await client.execute(uri: "/api/pools", method: .get)
            #expect(api.status == .ok)
            let pools = try #require(try JSONSerialization.jsonObject(with: Data(api.text.utf8)) as? [[String: Any]])
            #expect(pools.map { $0["pool"] as? String } == ["guests", "lab"])
            #expect(pools.first?["utilisation"] as? Double == 0.2)
            #expect(pools.first?["free"] as? Int == 7)
        }
    }

    @Test func releaseNeedsCredentialsAndTheCSRFToken() async throws {
        let harness = authenticated()
        let leases = try #require(harness.leases)
        try await harness.run { client in
            // Credentials are asked for before anything else.
            let anonymous = try await client.execute(uri: "/leases", method: .post, headers: formHeaders,
                                                     body: formBody([("csrf", testCSRF), ("action", "release"), ("mac", "aa:bb:cc:00:00:01")]))
            #expect(anonymous.status == .unauthorized)
            #expect(await leases.holds("aa:bb:cc:00:00:01"))
            let forged = try await release(client, "aa:bb:cc:00:00:01", csrf: "forged")
            #expect(forged.status == .forbidden)
            #expect(forged.text.contains("The form expired or did not come from this dashboard"))
            #expect(await leases.holds("aa:bb:cc:00:00:01"))
            let tokenless = try await release(client, "aa:bb:cc:00:00:01", csrf: nil)
            #expect(tokenless.status == .forbidden)
            #expect(await leases.holds("aa:bb:cc:00:00:01"))

            // The page offers the form, with the token, the MAC and the search to come back to.
            let page = try await send(client, "/leases?q=anna", .get).text
            #expect(page.contains("<input type=\"hidden\" name=\"csrf\" value=\"\(adminCSRF)\"><input type=\"hidden\" name=\"action\" value=\"release\">"))
            #expect(page.contains("<input type=\"hidden\" name=\"mac\" value=\"aa:bb:cc:00:00:01\"><input type=\"hidden\" name=\"q\" value=\"anna\">"))
            #expect(page.contains("data-confirm=\"Release 198.51.100.10 of aa:bb:cc:00:00:01?"))

            let done = try await release(client, "AA:BB:CC:00:00:01")
            #expect(done.status == .ok)
            #expect(done.text.contains("Released 198.51.100.10 (pool guests) of aa:bb:cc:00:00:01."))
            #expect(!listedMACs(done.text).contains("aa:bb:cc:00:00:01"))
        }
        #expect(await !leases.holds("aa:bb:cc:00:00:01"))
    }

    @Test func releaseNeedsCredentialsToBeConfigured() async throws {
        let harness = withLeases()
        let leases = try #require(harness.leases)
        try await harness.run { client in
            let post = try await client.execute(uri: "/leases", method: .post, headers: formHeaders,
                                                body: formBody([("csrf", testCSRF), ("action", "release"), ("mac", "aa:bb:cc:00:00:01")]))
            #expect(post.status == .forbidden)
            #expect(post.text.contains("Releasing leases needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set."))
            let api = try await client.execute(uri: "/api/leases/aa:bb:cc:00:00:01", method: .delete)
            #expect(api.status == .forbidden)
        }
        #expect(await leases.holds("aa:bb:cc:00:00:01"))
    }

    @Test func releasingWhatIsNotThereSaysSo() async throws {
        let harness = authenticated()
        let leases = try #require(harness.leases)
        try await harness.run { client in
            let unknown = try await release(client, "02:00:00:00:00:99")
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("02:00:00:00:00:99 holds no lease in any pool; nothing was released."))
            let malformed = try await release(client, "not-a-mac")
            #expect(malformed.status == .badRequest)
            #expect(malformed.text.contains("MAC address &quot;not-a-mac&quot; is not six hexadecimal octets"))
            // A quarantine is not released: it ends by itself.
            let quarantined = try await release(client, "aa:bb:cc:00:00:04")
            #expect(quarantined.status == .notFound)
            let action = try await send(client, "/leases", .post, headers: formHeaders,
                                        body: formBody([("csrf", adminCSRF), ("action", "forget"), ("mac", "aa:bb:cc:00:00:01")]))
            #expect(action.status == .badRequest && action.text.contains("Unknown action &quot;forget&quot;; expected release."))

            let apiUnknown = try await send(client, "/api/leases/02:00:00:00:00:99", .delete)
            #expect(apiUnknown.status == .notFound)
            #expect(apiUnknown.text.contains("02:00:00:00:00:99 holds no lease in any pool"))
            let apiReleased = try await send(client, "/api/leases/aa-bb-cc-00-00-02", .delete)
            #expect(apiReleased.status == .ok)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let released = try decoder.decode([PoolLease].self, from: Data(apiReleased.text.utf8))
            #expect(released.map(\.ip) == ["198.51.100.11"])
            // One lease is not read by MAC: search for it instead.
            let apiGet = try await client.execute(uri: "/api/leases/aa:bb:cc:00:00:03", method: .get)
            #expect(apiGet.status == .methodNotAllowed && apiGet.header("Allow") == "DELETE")
        }
        #expect(await leases.holds("aa:bb:cc:00:00:04"))
        #expect(await !leases.holds("aa:bb:cc:00:00:02"))
    }

    @Test func clientChosenStringsAreEscaped() async throws {
        let harness = authenticated()
        let leases = try #require(harness.leases)
        await leases.add(PoolLease(pool: "p\"><b>", mac: "aa:bb:cc:00:00:66", ip: "198.51.100.66", state: "bound",
                               expires: FakeLeases.now.addingTimeInterval(60), hostname: "<script>alert('x')</script>&"))
        try await harness.run { client in
            let html = try await send(client, "/leases?q=%3Cscript%3E", .get).text
            #expect(listedMACs(html) == ["aa:bb:cc:00:00:66"])
            #expect(html.contains("<td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</td>"))
            #expect(html.contains("<td>p&quot;&gt;&lt;b&gt;</td>"))
            #expect(html.contains("name=\"q\" value=\"&lt;script&gt;\""))
            #expect(!html.contains("<script>alert"))
            #expect(!html.contains("p\"><b>"))
        }
    }

    @Test func aFailingStoreIsReportedWithoutInternals() async throws {
        let harness = withLeases()
        await harness.leases!.setFailing(true)
        try await harness.run { client in
            let page = try await client.execute(uri: "/leases", method: .get)
            #expect(page.status == .ok)
            #expect(page.text.contains("The lease store failed; see the server log."))
            #expect(page.text.contains("The pools&#39; counts could not be read; see the server log."))
            #expect(!page.text.contains("FakeStoreDown"))
            let api = try await client.execute(uri: "/api/leases", method: .get)
            #expect(api.status == .internalServerError)
        }
    }

    @Test func withoutALeaseSourceThereIsNoPage() async throws {
        try await Harness().run { client in
            let page = try await client.execute(uri: "/leases", method: .get)
            #expect(page.status == .notFound)
            #expect(page.text.contains("This daemon has no lease store."))
            let dashboard = try await client.execute(uri: "/", method: .get).text
            #expect(!dashboard.contains("href=\"/leases\""))
            let api = try await client.execute(uri: "/api/leases", method: .get)
            #expect(api.status == .notFound)
        }
    }
}
