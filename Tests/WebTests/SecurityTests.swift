import DHCPWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// Who may read and change what (issue 21; README, "Web dashboard and API"): CSRF tokens bound to
/// the signed-in user, script methods behind WEB_DASHBOARD_SECURE and the CSRF check, and no
/// changes from other hosts to a dashboard without credentials.
@Suite struct SecurityTests {
    func withCredentials(_ configure: @escaping (inout WebConfiguration) -> Void = { _ in }) -> Harness {
        Harness { $0.digestUsername = "admin"; $0.digestPassword = "s3cret"; configure(&$0) }
    }

    /// `uri` with digest credentials, the challenge taken from `challengeURI` (a route that asks).
    func signedIn(_ client: some TestClientProtocol, _ uri: String, _ method: HTTPRequest.Method = .get,
                  challengeURI: String? = nil, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> TestResponse {
        let asking = try await client.execute(uri: challengeURI ?? uri, method: challengeURI == nil ? method : .get, headers: headers, body: body)
        let challenge = try #require(DigestClient.challenges(asking).first)
        var headers = headers
        headers[.authorization] = DigestClient().authorization(challenge, method: method.rawValue, uri: uri, nc: 1)
        return try await client.execute(uri: uri, method: method, headers: headers, body: body)
    }

    // MARK: 1. Tokens bound to the user, never shown to an anonymous visitor

    @Test func tokensAreBoundToUserAndRealm() {
        let tokens = CSRFTokens(secret: "k")
        #expect(tokens.token(for: "admin", realm: "lab") == tokens.token(for: "admin", realm: "lab"))
        #expect(tokens.token(for: "admin", realm: "lab") != tokens.token(for: "other", realm: "lab"))
        #expect(tokens.token(for: "admin", realm: "lab") != tokens.token(for: "admin", realm: "lab-2"))
        #expect(tokens.token(for: "admin", realm: "lab") != tokens.token(for: nil, realm: "lab"))
        #expect(tokens.token(for: "admin", realm: "lab") != CSRFTokens(secret: "other process").token(for: "admin", realm: "lab"))
        #expect(tokens.matches(tokens.token(for: "admin", realm: "lab"), for: "admin", realm: "lab"))
        #expect(!tokens.matches(tokens.token(for: nil, realm: "lab"), for: "admin", realm: "lab"))
    }

    @Test func anAnonymousVisitorSeesNoTokenWhereCredentialsAreSet() async throws {
        try await withCredentials().run { client in
            let dashboard = try await client.execute(uri: "/", method: .get)
            #expect(dashboard.status == .ok)
            #expect(!dashboard.text.contains("name=\"csrf\""))
            #expect(!dashboard.text.contains(adminCSRF) && !dashboard.text.contains(testCSRF))
            // The reinitialise entry is a link to its page, which asks for the credentials.
            #expect(dashboard.text.contains("<a href=\"\(reinitialisePath)\""))
            let page = try await client.execute(uri: reinitialisePath, method: .get)
            #expect(page.status == .unauthorized)
            let extensionPage = try await client.execute(uri: "/ext/template", method: .get)
            #expect(extensionPage.status == .ok && !extensionPage.text.contains("name=\"csrf\""))
        }
    }

    @Test func aSignedInUserGetsTheirOwnTokenEvenOnPagesAnyoneMayRead() async throws {
        try await withCredentials().run { client in
            let dashboard = try await signedIn(client, "/", challengeURI: "/reservations")
            #expect(dashboard.status == .ok)
            #expect(dashboard.text.contains("<input type=\"hidden\" name=\"csrf\" value=\"\(adminCSRF)\">"))
            let page = try await signedIn(client, reinitialisePath)
            #expect(page.text.contains("name=\"csrf\" value=\"\(adminCSRF)\""))
        }
    }

    @Test func aTokenMadeForAnotherIdentityIsRefusedForAnAuthenticatedChange() async throws {
        let harness = withCredentials { $0.reinitialiseSecure = true }
        try await harness.run { client in
            // The operator's token of a dashboard without credentials: what an anonymous visitor could get.
            let reload = try await signedIn(client, "/api/reload", .post, headers: [csrfHeader: testCSRF])
            #expect(reload.status == .forbidden)
            let reinitialise = try await signedIn(client, reinitialisePath, .post, headers: formHeaders, body: formBody([("csrf", testCSRF)]))
            #expect(reinitialise.status == .forbidden)
            let add = try await signedIn(client, "/reservations", .post, headers: formHeaders, body: formBody([
                ("csrf", testCSRF), ("action", "add"), ("mac", "aa:bb:cc:dd:ee:07"), ("ip", "192.0.2.17"), ("subnet", "192.0.2.0/24"), ("serial", "0"),
            ]))
            #expect(add.status == .forbidden)
            #expect(try await harness.store!.reservation(mac: MAC("aa:bb:cc:dd:ee:07")!) == nil)
            // The user's own token is accepted.
            let accepted = try await signedIn(client, "/api/reload", .post, headers: [csrfHeader: adminCSRF])
            #expect(accepted.status == .ok)
        }
        #expect(await harness.source.reloadCount == 1)
    }

    // MARK: 2. WEB_DASHBOARD_SECURE covers script methods not registered public

    @Test func dashboardSecureCoversEveryScriptMethodButPublicOnes() async throws {
        try await withCredentials { $0.dashboardSecure = true }.run { client in
            for path in ["/ext/template", "/ext/raw", "/ext/dashboard", "/ext/secret", "/ext/json"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .unauthorized, "\(path)")
            }
            let open = try await client.execute(uri: "/ext/public", method: .get)
            #expect(open.status == .ok && open.text == "hello nobody - -")
            let signed = try await signedIn(client, "/ext/template")
            #expect(signed.status == .ok && signed.text.contains("template body"))
        }
        try await withCredentials().run { client in
            let response1 = try await client.execute(uri: "/ext/template", method: .get)

            #expect(response1.status == .ok)
            let response2 = try await client.execute(uri: "/ext/secret", method: .get)

            #expect(response2.status == .unauthorized)
        }
    }

    // MARK: 3. POSTs to script methods need the token, unless the method is a JSON API

    @Test func scriptMethodPostsNeedTheVisitorsToken() async throws {
        try await Harness().run { client in
            let bare = try await client.execute(uri: "/ext/raw", method: .post, headers: formHeaders, body: formBody([("x", "1")]))
            #expect(bare.status == .forbidden && bare.text.contains("no valid CSRF token"))
            let forged = try await client.execute(uri: "/ext/raw", method: .post, headers: formHeaders, body: formBody([("csrf", "forged")]))
            #expect(forged.status == .forbidden)
            let json = try await client.execute(uri: "/ext/raw", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            #expect(json.status == .forbidden)
            let form = try await client.execute(uri: "/ext/raw", method: .post, headers: formHeaders, body: formBody([("csrf", testCSRF)]))
            #expect(form.status == .ok && form.text.hasPrefix("hello nobody application/x-www-form-urlencoded csrf="))
            let header = try await client.execute(uri: "/ext/raw", method: .post, headers: [.contentType: "text/plain", csrfHeader: testCSRF], body: ByteBuffer(string: "hi"))
            #expect(header.status == .ok && header.text == "hello nobody text/plain hi")
        }
        try await withCredentials().run { client in
            // Signed in, but with a token that is not the user's.
            let other = try await signedIn(client, "/ext/raw", .post, challengeURI: "/reservations", headers: [.contentType: "text/plain", csrfHeader: testCSRF], body: ByteBuffer(string: "hi"))
            #expect(other.status == .forbidden)
            let own = try await signedIn(client, "/ext/raw", .post, challengeURI: "/reservations", headers: [.contentType: "text/plain", csrfHeader: adminCSRF], body: ByteBuffer(string: "hi"))
            #expect(own.status == .ok)
            // Anonymous: no token exists for it, so the POST asks for the credentials (the GET does not).
            let anonymous = try await client.execute(uri: "/ext/raw", method: .post, headers: formHeaders, body: formBody([("csrf", adminCSRF)]))
            #expect(anonymous.status == .unauthorized)
            let get = try await client.execute(uri: "/ext/raw", method: .get)
            #expect(get.status == .ok)
        }
    }

    @Test func aJSONAPIMethodTakesOnlyJSONAndNoToken() async throws {
        try await Harness().run { client in
            let json = try await client.execute(uri: "/ext/json", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            #expect(json.status == .ok && json.text == "hello nobody application/json {}")
            let form = try await client.execute(uri: "/ext/json", method: .post, headers: formHeaders, body: formBody([("csrf", testCSRF)]))
            #expect(form.status == .unsupportedMediaType)
            let plain = try await client.execute(uri: "/ext/json", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}"))
            #expect(plain.status == .unsupportedMediaType)
        }
    }

    // MARK: 4. Without credentials, no changes from other hosts

    func exposed() -> Harness {
        var harness = Harness { $0.ip = "0.0.0.0" }
        harness.clientIsLoopback = false
        return harness
    }

    @Test func changesFromAnotherHostAreRefusedWithoutCredentials() async throws {
        let harness = exposed()
        try await harness.run { client in
            let reload = try await client.execute(uri: "/api/reload", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            #expect(reload.status == .forbidden)
            #expect(reload.text.contains("WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD"))
            let reinitialise = try await client.execute(uri: reinitialisePath, method: .post, headers: formHeaders, body: formBody([("csrf", testCSRF)]))
            #expect(reinitialise.status == .forbidden && reinitialise.text.contains("WEB_DIGEST_USERNAME"))
            let subnet = try await client.execute(uri: "/api/subnets/192.0.2.0/24?serial=0", method: .put, headers: jsonHeaders, body: ByteBuffer(string: #"{"leaseTime":60}"#))
            #expect(subnet.status == .forbidden && subnet.text.contains("WEB_DIGEST_USERNAME"))
            let lease = try await client.execute(uri: "/api/leases/aa:bb:cc:00:00:01", method: .delete)
            #expect(lease.status == .forbidden && lease.text.contains("loopback"))
            let script = try await client.execute(uri: "/ext/raw", method: .post, headers: [.contentType: "text/plain", csrfHeader: testCSRF], body: ByteBuffer(string: "x"))
            #expect(script.status == .forbidden)
            // Reading stays as configured, and the pages offer no token.
            let dashboard = try await client.execute(uri: "/", method: .get)
            #expect(dashboard.status == .ok && !dashboard.text.contains("name=\"csrf\""))
            let response3 = try await client.execute(uri: "/api/status", method: .get)

            #expect(response3.status == .ok)
            let response4 = try await client.execute(uri: "/api/reservations", method: .get)

            #expect(response4.status == .ok)
            // A method registered public stays readable.
            let response5 = try await client.execute(uri: "/ext/public", method: .get)

            #expect(response5.status == .ok)
        }
        #expect(await harness.source.reloadCount == 0)
    }

    @Test func theServerItselfAndLoopbackListenersStillChangeThings() async throws {
        // A loopback client of a dashboard listening beyond loopback.
        let local = Harness { $0.ip = "0.0.0.0" }
        try await local.run { client in
            let reload = try await client.execute(uri: "/api/reload", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            #expect(reload.status == .ok)
        }
        #expect(await local.source.reloadCount == 1)
        // Credentials set: another host that signs in may change things.
        var signed = withCredentials { $0.ip = "0.0.0.0" }
        signed.clientIsLoopback = false
        try await signed.run { client in
            let reload = try await signedIn(client, "/api/reload", .post, challengeURI: "/reservations", headers: [csrfHeader: adminCSRF])
            #expect(reload.status == .ok)
        }
        #expect(await signed.source.reloadCount == 1)
    }

    @Test func theExposureWarningNamesTheFix() {
        var configuration = WebConfiguration()
        configuration.ip = "0.0.0.0"
        let warning = configuration.exposureWarning ?? ""
        #expect(warning.contains("WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD"))
        #expect(warning.contains("WEB_IP = \"127.0.0.1\""))
        configuration.ip = "192.0.2.1"
        #expect(configuration.exposureWarning != nil)
        configuration.digestUsername = "admin"
        configuration.digestPassword = "s3cret"
        #expect(configuration.exposureWarning == nil)
        configuration = WebConfiguration()
        configuration.ip = "127.0.0.1"
        #expect(configuration.exposureWarning == nil)
    }

    @Test func loopbackAddresses() {
        for address in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] { #expect(Loopback.contains(address), "\(address)") }
        for address in ["0.0.0.0", "192.0.2.1", "198.51.100.127", "127.0.0", "::", "::ffff:192.0.2.1", "1127.0.0.1"] {
            #expect(!Loopback.contains(address), "\(address)")
        }
    }
}
