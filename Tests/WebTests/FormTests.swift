import DHCPWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// Reinitialise and reservations: POST with a CSRF token, never a GET with side effects.
@Suite struct FormTests {
    @Test func reinitialiseGetHasNoSideEffects() async throws {
        let harness = Harness()
        try await harness.run { client in
            let html = try await client.execute(uri: reinitialisePath, method: .get).text
            #expect(html.contains("method=\"post\" action=\"\(reinitialisePath)\""))
            #expect(html.contains("name=\"csrf\" value=\"\(testCSRF)\""))
            #expect(html.contains("data-confirm="))
        }
        #expect(await harness.source.reloadCount == 0)
    }

    @Test func reinitialisePostNeedsTheToken() async throws {
        let harness = Harness()
        try await harness.run { client in
            let forged = try await client.execute(uri: reinitialisePath, method: .post, headers: formHeaders, body: formBody([("csrf", "wrong")]))
            #expect(forged.status == .forbidden)
            let missing = try await client.execute(uri: reinitialisePath, method: .post, headers: formHeaders)
            #expect(missing.status == .forbidden)
            let good = try await client.execute(uri: reinitialisePath, method: .post, headers: formHeaders, body: formBody([("csrf", testCSRF)]))
            #expect(good.status == .ok)
            #expect(good.text.contains("System reinitialisation completed in 0.0421 seconds."))
            #expect(good.text.contains("data-rewrite=\"/\""))
        }
        #expect(await harness.source.reloadCount == 1)
    }

    @Test func reinitialiseFailureIsShownEscaped() async throws {
        let harness = Harness()
        await harness.source.setReloadSucceeds(false)
        try await harness.run { client in
            let response = try await client.execute(uri: reinitialisePath, method: .post, headers: formHeaders, body: formBody([("csrf", testCSRF)]))
            #expect(response.status == .internalServerError)
            #expect(response.text.contains("Reinitialisation failed:</span> conf.lua:3: &lt;bad&gt; token"))
        }
    }

    @Test func reinitialiseSettings() async throws {
        try await Harness { $0.reinitialiseEnabled = false }.run { client in
            let response1 = try await client.execute(uri: reinitialisePath, method: .get)
            #expect(response1.status == .notFound)
        }
        try await Harness { $0.reinitialiseHidden = true; $0.reinitialiseConfirm = false }.run { client in
            let dashboard = try await client.execute(uri: "/", method: .get).text
            #expect(!dashboard.contains("action=\"\(reinitialisePath)\""))
            let page = try await client.execute(uri: reinitialisePath, method: .get).text
            #expect(page.contains("action=\"\(reinitialisePath)\""))
            #expect(!page.contains("data-confirm=\"core | reinitialise"))
        }
    }

    @Test func apiReloadNeedsJSONOrTokenHeader() async throws {
        let harness = Harness()
        try await harness.run { client in
            let simpleForm = try await client.execute(uri: "/api/reload", method: .post, headers: formHeaders, body: ByteBuffer(string: "x=1"))
            #expect(simpleForm.status == .forbidden)
            let json = try await client.execute(uri: "/api/reload", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{}"))
            #expect(json.status == .ok)
            let outcome = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as! [String: Any]
            #expect(outcome["succeeded"] as? Bool == true)
            let token = try await client.execute(uri: "/api/reload", method: .post, headers: [HTTPField.Name("X-CSRF-Token")!: testCSRF])
            #expect(token.status == .ok)
        }
        #expect(await harness.source.reloadCount == 2)
    }

    func authenticated() -> Harness {
        Harness { $0.digestUsername = "admin"; $0.digestPassword = "s3cret" }
    }

    /// Sends `uri` with digest credentials, answering the challenge first.
    func send(_ client: some TestClientProtocol, _ uri: String, _ method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> TestResponse {
        let challenge = DigestClient.challenges(try await client.execute(uri: uri, method: method, headers: headers, body: body))[0]
        var headers = headers
        headers[.authorization] = DigestClient().authorization(challenge, method: method.rawValue, uri: uri, nc: 1)
        return try await client.execute(uri: uri, method: method, headers: headers, body: body)
    }

    @Test func reservationsPageSearchAddEditRemove() async throws {
        let harness = authenticated()
        try await harness.run { client in
            let list = try await send(client, "/reservations?q=printer", .get)
            #expect(list.status == .ok)
            #expect(list.text.contains("<td class=\"mono\">aa:bb:cc:dd:ee:01</td>"))
            let none = try await send(client, "/reservations?q=zzz", .get)
            #expect(none.text.contains("No reservations match."))

            let add = try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([
                ("csrf", adminCSRF), ("action", "add"), ("mac", "AA-BB-CC-DD-EE-02"), ("ip", "192.0.2.11"), ("hostname", "laptop"),
                ("subnet", "192.0.2.0/24"), ("serial", "0"),
            ]))
            #expect(add.status == .ok)
            #expect(add.text.contains("Added aa:bb:cc:dd:ee:02 → 192.0.2.11."))

            let edit = try await send(client, "/reservations?edit=aa:bb:cc:dd:ee:02", .get)
            #expect(edit.text.contains("name=\"original\" value=\"aa:bb:cc:dd:ee:02\""))
            #expect(edit.text.contains("value=\"laptop\""))

            let update = try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([
                ("csrf", adminCSRF), ("action", "update"), ("original", "aa:bb:cc:dd:ee:02"), ("mac", "aa:bb:cc:dd:ee:02"),
                ("ip", "192.0.2.12"), ("hostname", ""), ("subnet", "192.0.2.0/24"), ("serial", "0"),
            ]))
            #expect(update.text.contains("Updated aa:bb:cc:dd:ee:02 → 192.0.2.12."))

            let remove = try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([
                ("csrf", adminCSRF), ("action", "remove"), ("mac", "aa:bb:cc:dd:ee:02"),
            ]))
            #expect(remove.text.contains("Removed aa:bb:cc:dd:ee:02."))
        }
        #expect(try await harness.store!.reservation(mac: MAC("aa:bb:cc:dd:ee:02")!) == nil)
    }

    @Test func reservationsPageReportsBadInputClearly() async throws {
        let harness = authenticated()
        try await harness.run { client in
            func add(_ mac: String, _ ip: String, _ serial: String, subnet: String = "192.0.2.0/24") async throws -> TestResponse {
                try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([
                    ("csrf", adminCSRF), ("action", "add"), ("mac", mac), ("ip", ip), ("subnet", subnet), ("serial", serial),
                ]))
            }
            let badMAC = try await add("zz:bb", "192.0.2.1", "0")
            #expect(badMAC.status == .badRequest && badMAC.text.contains("MAC address &quot;zz:bb&quot; is not six hexadecimal octets"))
            let badIP = try await add("aa:bb:cc:dd:ee:09", "192.0.2.300", "0")
            #expect(badIP.text.contains("IP address &quot;192.0.2.300&quot; is not a dotted IPv4 address"))
            // The rejected input stays in the form.
            #expect(badIP.text.contains("value=\"192.0.2.300\""))
            let badSerial = try await add("aa:bb:cc:dd:ee:09", "192.0.2.9", "x")
            #expect(badSerial.text.contains("serial &quot;x&quot; is not a whole number"))
            let duplicate = try await add("aa:bb:cc:dd:ee:01", "192.0.2.9", "0")
            #expect(duplicate.text.contains("aa:bb:cc:dd:ee:01 already has a reservation"))
            let unknownSubnet = try await add("aa:bb:cc:dd:ee:09", "192.0.2.9", "4")
            #expect(unknownSubnet.text.contains("unknown subnet 192.0.2.0/24 serial 4"))
            let forged = try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([("csrf", "nope"), ("action", "remove"), ("mac", "aa:bb:cc:dd:ee:01")]))
            #expect(forged.status == .forbidden)
        }
        #expect(try await harness.store!.reservation(mac: MAC("aa:bb:cc:dd:ee:01")!) != nil)
    }

    @Test func reservationWritesNeedConfiguredCredentials() async throws {
        let harness = Harness()
        try await harness.run { client in
            let page = try await client.execute(uri: "/reservations", method: .get)
            #expect(page.status == .ok)
            let write = try await client.execute(uri: "/reservations", method: .post, headers: formHeaders, body: formBody([("csrf", testCSRF), ("action", "remove"), ("mac", "aa:bb:cc:dd:ee:01")]))
            #expect(write.status == .forbidden)
            #expect(write.text.contains("needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD"))
        }
        #expect(try await harness.store!.reservation(mac: MAC("aa:bb:cc:dd:ee:01")!) != nil)
    }

    @Test func reservationsWithoutSQLEngine() async throws {
        var harness = Harness()
        harness.store = nil
        try await harness.run { client in
            let page = try await client.execute(uri: "/reservations", method: .get)
            #expect(page.status == .notFound && page.text.contains("only with an SQL database engine"))
            let response2 = try await client.execute(uri: "/", method: .get)
            #expect(!(response2.text.contains("href=\"/reservations\"")))
            let response3 = try await client.execute(uri: "/api/reservations", method: .get)
            #expect(response3.status == .notFound)
        }
    }

    @Test func reservationsAPI() async throws {
        let harness = authenticated()
        try await harness.run { client in
            let list = try await send(client, "/api/reservations?q=192.0.2", .get)
            let rows = try JSONDecoder().decode([Reservation].self, from: Data(list.text.utf8))
            #expect(rows.map(\.mac.description) == ["aa:bb:cc:dd:ee:01"])
            let body = ByteBuffer(string: #"{"mac":"aa:bb:cc:dd:ee:03","ip":"192.0.2.13","subnet":"192.0.2.0/24","serial":0}"#)
            let created = try await send(client, "/api/reservations", .post, headers: jsonHeaders, body: body)
            #expect(created.status == .created)
            let one = try await send(client, "/api/reservations/aa:bb:cc:dd:ee:03", .get)
            #expect(one.status == .ok && one.text.contains("192.0.2.13"))
            let bad = try await send(client, "/api/reservations", .post, headers: jsonHeaders, body: ByteBuffer(string: #"{"mac":"nope"}"#))
            #expect(bad.status == .badRequest && bad.text.contains("not a reservation object"))
            let formPost = try await send(client, "/api/reservations", .post, headers: formHeaders, body: ByteBuffer(string: "mac=x"))
            #expect(formPost.status == .forbidden)
            let deleted = try await send(client, "/api/reservations/aa:bb:cc:dd:ee:03", .delete)
            #expect(deleted.status == .noContent)
            let gone = try await send(client, "/api/reservations/aa:bb:cc:dd:ee:03", .delete)
            #expect(gone.status == .notFound)
        }
    }

    @Test func validationNormalisesAndRejects() throws {
        #expect(try ReservationValidation.normalisedMAC("AABB.CCDD.EEFF").description == "aa:bb:cc:dd:ee:ff")
        #expect(try ReservationValidation.checkedIPv4("192.0.2.010", field: "IP") == IPv4(192, 0, 2, 10))
        #expect(throws: ReservationInputError.self) { try ReservationValidation.normalisedMAC("aa:bb:cc:dd:ee") }
        #expect(throws: ReservationInputError.self) { try ReservationValidation.checkedIPv4("1.2.3", field: "IP") }
        #expect(throws: ReservationInputError.self) {
            try ReservationValidation.validated(mac: "aa:bb:cc:dd:ee:ff", ip: "192.0.2.1", hostname: "bad host!", subnet: "s", serial: 0)
        }
    }
}
