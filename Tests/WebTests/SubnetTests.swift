import DHCPWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// Subnets on `/reservations` and under `/api/subnets`: list, add, edit, remove, and the refusals.
@Suite struct SubnetTests {
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

    func post(_ client: some TestClientProtocol, _ pairs: [(String, String)]) async throws -> TestResponse {
        try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([("csrf", adminCSRF)] + pairs))
    }

    static let labFields: [(String, String)] = [
        ("subnet", "198.51.100.0/24"), ("serial", "0"), ("lease_time", "7200"), ("gateway", "198.51.100.1"),
        ("subnet_mask", "255.255.255.0"), ("broadcast_address", "198.51.100.255"), ("domain_name_servers", "198.51.100.53, 198.51.100.54"),
        ("ntp_servers", ""), ("domain_name", "lab.example"),
    ]

    @Test func pageListsAddsEditsAndRemovesSubnets() async throws {
        let harness = authenticated()
        try await harness.run { client in
            let page = try await send(client, "/reservations", .get)
            #expect(page.status == .ok)
            #expect(page.text.contains("<section class=\"element wide\" id=\"subnets\">"))
            #expect(page.text.contains("<table class=\"data\" id=\"subnet-table\">"))
            #expect(page.text.contains("<td class=\"mono\">192.0.2.0/24</td>"))
            #expect(page.text.contains("name=\"action\" value=\"subnet-add\""))
            // The reservation editor suggests the known subnets.
            #expect(page.text.contains("<datalist id=\"subnet-labels\"><option value=\"192.0.2.0/24\"></datalist>"))

            let add = try await post(client, [("action", "subnet-add")] + Self.labFields)
            #expect(add.status == .ok)
            #expect(add.text.contains("Added subnet 198.51.100.0/24 serial 0."))
            #expect(add.text.contains("<td class=\"mono\">198.51.100.53,198.51.100.54</td>"))

            let edit = try await send(client, "/reservations?edit-subnet=198.51.100.0%2F24&serial=0", .get)
            #expect(edit.text.contains("Edit subnet 198.51.100.0/24 serial 0"))
            #expect(edit.text.contains("name=\"action\" value=\"subnet-update\""))
            #expect(edit.text.contains("name=\"subnet\" readonly size=\"18\" value=\"198.51.100.0/24\""))
            #expect(edit.text.contains("name=\"lease_time\" required min=\"1\" size=\"7\" value=\"7200\""))
            let missing = try await send(client, "/reservations?edit-subnet=nowhere&serial=0", .get)
            #expect(missing.text.contains("There is no subnet nowhere serial 0."))

            var changed = Self.labFields.filter { $0.0 != "lease_time" && $0.0 != "gateway" }
            changed += [("lease_time", "600"), ("gateway", "198.51.100.254")]
            let update = try await post(client, [("action", "subnet-update")] + changed)
            #expect(update.status == .ok)
            #expect(update.text.contains("Updated subnet 198.51.100.0/24 serial 0."))

            let remove = try await post(client, [("action", "subnet-remove"), ("subnet", "198.51.100.0/24"), ("serial", "0")])
            #expect(remove.status == .ok)
            #expect(remove.text.contains("Removed subnet 198.51.100.0/24 serial 0."))
        }
        let store = try #require(harness.store)
        #expect(await store.subnet("198.51.100.0/24") == nil)
        #expect(await store.subnet("192.0.2.0/24") != nil)
    }

    @Test func updateChangesTheStoredSettings() async throws {
        let harness = authenticated()
        try await harness.run { client in
            let update = try await post(client, [
                ("action", "subnet-update"), ("subnet", "192.0.2.0/24"), ("serial", "0"), ("lease_time", "900"),
                ("gateway", "192.0.2.1,192.0.2.2"), ("subnet_mask", ""), ("domain_name", "new.example"),
            ])
            #expect(update.status == .ok)
        }
        let stored = try #require(await harness.store?.subnet("192.0.2.0/24"))
        #expect(stored == SubnetRecord(subnet: "192.0.2.0/24", serial: 0, leaseTime: 900, gateways: [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)],
                                   domainName: "new.example"))
    }

    @Test func pageReportsBadSubnetInputClearly() async throws {
        let harness = authenticated()
        try await harness.run { client in
            func add(_ overrides: [String: String]) async throws -> TestResponse {
                let fields = Self.labFields.map { ($0.0, overrides[$0.0] ?? $0.1) }
                return try await post(client, [("action", "subnet-add")] + fields)
            }
            let badGateway = try await add(["gateway": "198.51.100.300"])
            #expect(badGateway.status == .badRequest)
            #expect(badGateway.text.contains("gateway &quot;198.51.100.300&quot; is not a dotted IPv4 address"))
            // The rejected input stays in the subnet form, and the message sits in the subnets element.
            #expect(badGateway.text.contains("name=\"gateway\" size=\"15\" value=\"198.51.100.300\""))
            let section = try #require(badGateway.text.range(of: "id=\"subnets\""))
            #expect(badGateway.text.range(of: "is not a dotted IPv4 address")!.lowerBound > section.lowerBound)

            let badMask = try await add(["subnet_mask": "255.0.255.0"])
            #expect(badMask.text.contains("subnet mask 255.0.255.0 is not a contiguous mask"))
            let badDNS = try await add(["domain_name_servers": "198.51.100.53,,198.51.100.54"])
            #expect(badDNS.text.contains("DNS servers &quot;198.51.100.53,,198.51.100.54&quot; has an empty entry"))
            let badLease = try await add(["lease_time": "soon"])
            #expect(badLease.text.contains("lease time &quot;soon&quot; is not a whole number of seconds"))
            let zeroLease = try await add(["lease_time": "0"])
            #expect(zeroLease.text.contains("lease time must be between 1 and 4294967295 seconds, not 0"))
            let badSerial = try await add(["serial": "-1"])
            #expect(badSerial.text.contains("serial must be 0 or more, not -1"))
            let badDomain = try await add(["domain_name": "lab example"])
            #expect(badDomain.text.contains("domain name &quot;lab example&quot; may contain only letters"))
            let empty = try await add(["subnet": "  "])
            #expect(empty.text.contains("subnet must not be empty"))

            let duplicate = try await post(client, [("action", "subnet-add"), ("subnet", "192.0.2.0/24"), ("serial", "0"), ("lease_time", "60")])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.text.contains("subnet &#39;192.0.2.0/24&#39; serial 0 already exists"))
            let inUse = try await post(client, [("action", "subnet-remove"), ("subnet", "192.0.2.0/24"), ("serial", "0")])
            #expect(inUse.status == .badRequest)
            #expect(inUse.text.contains("still has 1 reservation(s); remove them first"))
            let unknown = try await post(client, [("action", "subnet-remove"), ("subnet", "nowhere"), ("serial", "3")])
            #expect(unknown.text.contains("There is no subnet nowhere serial 3."))
            let updateUnknown = try await post(client, [("action", "subnet-update"), ("subnet", "nowhere"), ("serial", "0"), ("lease_time", "60")])
            #expect(updateUnknown.text.contains("subnet &#39;nowhere&#39; serial 0 does not exist"))
            let badAction = try await post(client, [("action", "subnet-explode")])
            #expect(badAction.text.contains("Unknown action &quot;subnet-explode&quot;"))
        }
        #expect(await harness.store?.subnets.count == 1)
    }

    @Test func subnetWritesNeedTokenAndCredentials() async throws {
        let secured = authenticated()
        try await secured.run { client in
            let forged = try await send(client, "/reservations", .post, headers: formHeaders, body: formBody([
                ("csrf", "forged"), ("action", "subnet-remove"), ("subnet", "192.0.2.0/24"), ("serial", "0"),
            ]))
            #expect(forged.status == .forbidden)
            let anonymous = try await client.execute(uri: "/reservations", method: .post, headers: formHeaders, body: formBody([
                ("csrf", testCSRF), ("action", "subnet-add"), ("subnet", "x"), ("serial", "0"), ("lease_time", "60"),
            ]))
            #expect(anonymous.status == .unauthorized)
        }
        let open = Harness()
        try await open.run { client in
            let write = try await client.execute(uri: "/reservations", method: .post, headers: formHeaders, body: formBody([
                ("csrf", testCSRF), ("action", "subnet-add"), ("subnet", "x"), ("serial", "0"), ("lease_time", "60"),
            ]))
            #expect(write.status == .forbidden)
            #expect(write.text.contains("needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD"))
            let api = try await client.execute(uri: "/api/subnets", method: .post, headers: jsonHeaders, body: ByteBuffer(string: #"{"subnet":"x","leaseTime":60}"#))
            #expect(api.status == .forbidden)
        }
        #expect(await secured.store?.subnets.count == 1)
        #expect(await open.store?.subnets.count == 1)
    }

    @Test func subnetsAPI() async throws {
        let harness = authenticated()
        try await harness.run { client in
            let list = try await send(client, "/api/subnets", .get)
            #expect(list.status == .ok && list.header("Content-Type") == "application/json")
            #expect(try JSONDecoder().decode([SubnetRecord].self, from: Data(list.text.utf8)).map(\.subnet) == ["192.0.2.0/24"])

            let body = #"{"subnet":"198.51.100.0/24","serial":2,"leaseTime":3600,"gateway":"198.51.100.1","domainNameServers":"198.51.100.53"}"#
            let created = try await send(client, "/api/subnets", .post, headers: jsonHeaders, body: ByteBuffer(string: body))
            #expect(created.status == .created)
            let one = try await send(client, "/api/subnets/198.51.100.0/24?serial=2", .get)
            #expect(one.status == .ok)
            #expect(try JSONDecoder().decode(SubnetRecord.self, from: Data(one.text.utf8)).gateways == [IPv4(198, 51, 100, 1)])
            let encoded = try await send(client, "/api/subnets/198.51.100.0%2F24?serial=2", .get)
            #expect(encoded.status == .ok)
            let absent = try await send(client, "/api/subnets/198.51.100.0/24", .get)
            #expect(absent.status == .notFound && absent.text.contains("no subnet 198.51.100.0/24 serial 0"))

            let update = try await send(client, "/api/subnets/198.51.100.0/24?serial=2", .put, headers: jsonHeaders,
                                        body: ByteBuffer(string: #"{"leaseTime":600,"subnetMask":"255.255.255.0"}"#))
            #expect(update.status == .ok)
            let rekey = try await send(client, "/api/subnets/198.51.100.0/24?serial=2", .put, headers: jsonHeaders,
                                       body: ByteBuffer(string: #"{"subnet":"203.0.113.0/24","leaseTime":600}"#))
            #expect(rekey.status == .badRequest && rekey.text.contains("a subnet's label cannot change"))
            let putMissing = try await send(client, "/api/subnets/nowhere", .put, headers: jsonHeaders, body: ByteBuffer(string: #"{"leaseTime":600}"#))
            #expect(putMissing.status == .notFound)

            let badIP = try await send(client, "/api/subnets", .post, headers: jsonHeaders,
                                       body: ByteBuffer(string: #"{"subnet":"203.0.113.0/24","leaseTime":60,"broadcastAddress":"203.0.113"}"#))
            #expect(badIP.status == .badRequest && badIP.text.contains("broadcast address"))
            let duplicate = try await send(client, "/api/subnets", .post, headers: jsonHeaders, body: ByteBuffer(string: #"{"subnet":"192.0.2.0/24","leaseTime":60}"#))
            #expect(duplicate.status == .badRequest && duplicate.text.contains("already exists"))
            let notAnObject = try await send(client, "/api/subnets", .post, headers: jsonHeaders, body: ByteBuffer(string: #"{"subnet":"x"}"#))
            #expect(notAnObject.status == .badRequest && notAnObject.text.contains("not a subnet object"))
            let formPost = try await send(client, "/api/subnets", .post, headers: formHeaders, body: ByteBuffer(string: "subnet=x"))
            #expect(formPost.status == .forbidden)
            let inUse = try await send(client, "/api/subnets/192.0.2.0/24", .delete)
            #expect(inUse.status == .badRequest && inUse.text.contains("still has 1 reservation"))
            let deleted = try await send(client, "/api/subnets/198.51.100.0/24?serial=2", .delete)
            #expect(deleted.status == .noContent)
            let gone = try await send(client, "/api/subnets/198.51.100.0/24?serial=2", .delete)
            #expect(gone.status == .notFound)
            let wrongMethod = try await client.execute(uri: "/api/subnets", method: .delete)
            #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.header("Allow") == "GET, HEAD, POST")
            let anonymous = try await client.execute(uri: "/api/subnets", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
        let store = try #require(harness.store)
        #expect(await store.subnets.map(\.subnet) == ["192.0.2.0/24"])
    }

    @Test func validationNormalises() throws {
        let record = try SubnetValidation.validated(SubnetInput(
            leaseTime: 60, gateway: " 192.0.2.1 , 192.0.2.02", subnetMask: "255.255.254.0",
            broadcastAddress: "", ntpServers: nil, domainNameServers: "  ", domainName: " lab.example "), subnet: " 192.0.2.0/24 ", serial: 0)
        #expect(record == SubnetRecord(subnet: "192.0.2.0/24", serial: 0, leaseTime: 60, gateways: [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)],
                                       subnetMask: IPv4(255, 255, 254, 0), domainName: "lab.example"))
        #expect(throws: ReservationInputError.self) { try SubnetValidation.mask("255.255.255.1") }
        #expect(try SubnetValidation.mask("0.0.0.0") == IPv4(0, 0, 0, 0))
        #expect(try SubnetValidation.mask("255.255.255.255") == IPv4(255, 255, 255, 255))
        #expect(throws: ReservationInputError.self) { try SubnetValidation.label("bad\u{1}label") }
    }
}
