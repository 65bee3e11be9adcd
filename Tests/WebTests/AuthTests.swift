import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// A digest client computing responses the way RFC 7616 says a browser does.
struct DigestClient {
    var username = "admin"
    var password = "s3cret"
    var cnonce = "0a4f113b"

    struct Challenge {
        var realm: String
        var nonce: String
        var opaque: String
        var algorithm: String
        var stale: Bool
    }

    static func challenges(_ response: TestResponse) -> [Challenge] {
        response.headerValues("WWW-Authenticate").compactMap { header in
            guard let fields = DigestFields.parse(header) else { return nil }
            return Challenge(realm: fields["realm"]!, nonce: fields["nonce"]!, opaque: fields["opaque"]!, algorithm: fields["algorithm"]!, stale: fields["stale"] == "true")
        }
    }

    func authorization(_ challenge: Challenge, method: String, uri: String, nc: Int, password: String? = nil) -> String {
        let hash: HashFunction = challenge.algorithm == "SHA-256" ? .sha256 : .md5
        let ncText = String(format: "%08x", nc)
        let ha1 = hash.hex("\(username):\(challenge.realm):\(password ?? self.password)")
        let ha2 = hash.hex("\(method):\(uri)")
        let response = hash.hex("\(ha1):\(challenge.nonce):\(ncText):\(cnonce):auth:\(ha2)")
        return "Digest username=\"\(username)\", realm=\"\(challenge.realm)\", nonce=\"\(challenge.nonce)\", uri=\"\(uri)\", algorithm=\(challenge.algorithm), qop=auth, nc=\(ncText), cnonce=\"\(cnonce)\", response=\"\(response)\", opaque=\"\(challenge.opaque)\""
    }
}

@Suite struct AuthTests {
    func secured() -> Harness {
        Harness {
            $0.digestUsername = "admin"
            $0.digestPassword = "s3cret"
            $0.dashboardSecure = true
            $0.systemName = "Lab \"DHCP\""
            $0.digestNonceLifetime = .seconds(120)
        }
    }

    @Test func hashFunctionsMatchPublishedVectors() {
        #expect(HashFunction.md5.hex("") == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(HashFunction.md5.hex("abc") == "900150983cd24fb0d6963f7d28e17f72")
        #expect(HashFunction.md5.hex(String(repeating: "a", count: 1000)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
        #expect(HashFunction.sha256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(HashFunction.sha256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(HashFunction.sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // RFC 4231 test case 2.
        #expect(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)).hexString
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func rfc7616ExampleResponses() {
        // RFC 7616 section 3.9.1.
        func response(_ hash: HashFunction) -> String {
            let ha1 = hash.hex("Mufasa:http-auth@example.org:Circle of Life")
            let ha2 = hash.hex("GET:/dir/index.html")
            return hash.hex("\(ha1):7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:\(ha2)")
        }
        #expect(response(.md5) == "8ca523f5e9506fed4657c9700eebdbec")
        #expect(response(.sha256) == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    }

    @Test func challengeOffersSHA256AndMD5() async throws {
        try await secured().run { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .unauthorized)
            let challenges = DigestClient.challenges(response)
            #expect(challenges.map(\.algorithm) == ["SHA-256", "MD5"])
            #expect(challenges.allSatisfy { $0.realm == "Lab 'DHCP'" && !$0.stale })
            #expect(response.header("WWW-Authenticate")?.contains("qop=\"auth\"") == true)
            // Static resources are never protected.
            let response1 = try await client.execute(uri: "/css", method: .get)
            #expect(response1.status == .ok)
        }
    }

    @Test(arguments: [0, 1]) func goodCredentialsAndNonceCounting(challengeIndex: Int) async throws {
        try await secured().run { client in
            let challenge = DigestClient.challenges(try await client.execute(uri: "/api/status", method: .get))[challengeIndex]
            let digest = DigestClient()
            let first = try await client.execute(uri: "/api/status?x=1", method: .get, headers: [.authorization: digest.authorization(challenge, method: "GET", uri: "/api/status?x=1", nc: 1)])
            #expect(first.status == .ok)
            // The same nonce is reused with the next count: no new challenge round-trip.
            let second = try await client.execute(uri: "/", method: .get, headers: [.authorization: digest.authorization(challenge, method: "GET", uri: "/", nc: 2)])
            #expect(second.status == .ok)
            // Replaying a count is refused.
            let replay = try await client.execute(uri: "/", method: .get, headers: [.authorization: digest.authorization(challenge, method: "GET", uri: "/", nc: 2)])
            #expect(replay.status == .unauthorized)
        }
    }

    @Test func badCredentialsAreChallengedWithoutStale() async throws {
        try await secured().run { client in
            let challenge = DigestClient.challenges(try await client.execute(uri: "/", method: .get))[0]
            let wrong = try await client.execute(uri: "/", method: .get, headers: [.authorization: DigestClient().authorization(challenge, method: "GET", uri: "/", nc: 1, password: "guess")])
            #expect(wrong.status == .unauthorized)
            #expect(DigestClient.challenges(wrong).allSatisfy { !$0.stale })
            // Signed for another URI or method.
            let otherURI = try await client.execute(uri: "/", method: .get, headers: [.authorization: DigestClient().authorization(challenge, method: "GET", uri: "/metrics", nc: 1)])
            #expect(otherURI.status == .unauthorized)
            // A forged nonce with right credentials is only "stale" (e.g. from before a restart).
            var forged = challenge
            forged.nonce = "5f5e1000.00112233445566778899aabb.00000000000000000000000000000000"
            let stale = try await client.execute(uri: "/", method: .get, headers: [.authorization: DigestClient().authorization(forged, method: "GET", uri: "/", nc: 1)])
            #expect(stale.status == .unauthorized && DigestClient.challenges(stale).allSatisfy { $0.stale })
            // Garbage headers are challenges, not crashes.
            for garbage in ["Basic YWRtaW46czNjcmV0", "Digest", "Digest username=\"admin", "Digest a=1, a=2", "Digest nc=zz"] {
                let response = try await client.execute(uri: "/", method: .get, headers: [.authorization: garbage])
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func expiredNonceGetsStaleTrue() async throws {
        let harness = secured()
        try await harness.run { client in
            let challenge = DigestClient.challenges(try await client.execute(uri: "/", method: .get))[0]
            let digest = DigestClient()
            let response2 = try await client.execute(uri: "/", method: .get, headers: [.authorization: digest.authorization(challenge, method: "GET", uri: "/", nc: 1)])
            #expect(response2.status == .ok)
            harness.clock.advance(121)
            let expired = try await client.execute(uri: "/", method: .get, headers: [.authorization: digest.authorization(challenge, method: "GET", uri: "/", nc: 2)])
            #expect(expired.status == .unauthorized)
            let fresh = DigestClient.challenges(expired)
            #expect(fresh.allSatisfy { $0.stale })
            #expect(fresh[0].nonce != challenge.nonce)
            let retried = try await client.execute(uri: "/", method: .get, headers: [.authorization: digest.authorization(fresh[0], method: "GET", uri: "/", nc: 1)])
            #expect(retried.status == .ok)
        }
    }

    @Test func securityFollowsSection64() async throws {
        // Without WEB_DASHBOARD_SECURE only secure methods and reservations ask for credentials.
        try await Harness { $0.digestUsername = "admin"; $0.digestPassword = "s3cret" }.run { client in
            let response3 = try await client.execute(uri: "/", method: .get)
            #expect(response3.status == .ok)
            let response4 = try await client.execute(uri: "/ext/template", method: .get)
            #expect(response4.status == .ok)
            let response5 = try await client.execute(uri: "/ext/secret", method: .get)
            #expect(response5.status == .unauthorized)
            let response6 = try await client.execute(uri: "/reservations", method: .get)
            #expect(response6.status == .unauthorized)
            let response7 = try await client.execute(uri: "/api/reservations", method: .get)
            #expect(response7.status == .unauthorized)
        }
        // Dashboard-secure protects every script method not registered public (issue 21);
        // reinitialise-secure protects reload.
        try await Harness { $0.digestUsername = "admin"; $0.digestPassword = "s3cret"; $0.dashboardSecure = true }.run { client in
            let response8 = try await client.execute(uri: "/ext/dashboard", method: .get)
            #expect(response8.status == .unauthorized)
            let response9 = try await client.execute(uri: "/ext/template", method: .get)
            #expect(response9.status == .unauthorized)
        }
        try await Harness { $0.digestUsername = "admin"; $0.digestPassword = "s3cret"; $0.reinitialiseSecure = true }.run { client in
            let response10 = try await client.execute(uri: reinitialisePath, method: .get)
            #expect(response10.status == .unauthorized)
            let response11 = try await client.execute(uri: "/api/reload", method: .post, headers: jsonHeaders)
            #expect(response11.status == .unauthorized)
            let response12 = try await client.execute(uri: "/", method: .get)
            #expect(response12.status == .ok)
        }
        // Without both credentials nothing is protected (README, "Web dashboard and API").
        try await Harness { $0.digestUsername = "admin"; $0.dashboardSecure = true }.run { client in
            let response13 = try await client.execute(uri: "/ext/secret", method: .get)
            #expect(response13.status == .ok)
        }
    }

    @Test func authenticationHappensBeforeTheBodyIsRead() async throws {
        try await secured().run { client in
            let big = ByteBuffer(string: String(repeating: "x", count: 200_000))
            let response = try await client.execute(uri: reinitialisePath, method: .post, headers: formHeaders, body: big)
            #expect(response.status == .unauthorized)
        }
    }
}
