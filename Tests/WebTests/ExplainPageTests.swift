import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
@testable import Web

/// Answers every form with a fixed report, remembering the forms it got.
final class FakeExplainer: ExplainSource {
    let received = Mutex<[ExplainForm]>([])
    var methods: [String] { ["DISCOVER", "REQUEST:SELECTING", "REQUEST:RENEW"] }

    func explain(_ form: ExplainForm) async -> ExplainAnswer {
        received.withLock { $0.append(form) }
        if form.mac == "02:00:00:00:00:01" {
            return ExplainAnswer(verdict: .reply, text: "reply: OFFER of 192.0.2.10 <to> 192.0.2.10:68")
        }
        return ExplainAnswer(verdict: .noReply, text: "=> no reply: unknown MAC")
    }
}

/// `/explain`: the form, its CSRF check, and who may use it.
@Suite struct ExplainPageTests {
    func harness(credentials: Bool = false, loopback: Bool = true, explainer: FakeExplainer = FakeExplainer()) -> Harness {
        var harness = Harness { configuration in
            if credentials {
                configuration.digestUsername = "admin"
                configuration.digestPassword = "s3cret"
            }
        }
        harness.explainer = explainer
        harness.clientIsLoopback = loopback
        return harness
    }

    func post(_ client: some TestClientProtocol, _ pairs: [(String, String)]) async throws -> TestResponse {
        try await client.execute(uri: "/explain", method: .post, headers: formHeaders, body: formBody(pairs))
    }

    @Test func theFormOffersTheMethodsAndCarriesTheToken() async throws {
        try await harness().run { client in
            let page = try await client.execute(uri: "/explain", method: .get)
            #expect(page.status == .ok)
            #expect(page.text.contains("<option selected>DISCOVER</option><option>REQUEST:SELECTING</option>"))
            #expect(page.text.contains("name=\"csrf\" value=\"\(testCSRF)\""))
            let dashboard = try await client.execute(uri: "/", method: .get).text
            #expect(dashboard.contains("<a href=\"/explain\">explain</a>"))
        }
    }

    @Test func aPostWithTheTokenShowsTheReportEscaped() async throws {
        let explainer = FakeExplainer()
        try await harness(explainer: explainer).run { client in
            let reply = try await post(client, [("csrf", testCSRF), ("mac", "02:00:00:00:00:01"), ("method", "REQUEST:RENEW"),
                                               ("relay", "198.51.100.2"), ("requested_ip", "192.0.2.10")])
            #expect(reply.status == .ok)
            #expect(reply.text.contains("A reply would be sent."))
            #expect(reply.text.contains("<pre id=\"explain-report\">reply: OFFER of 192.0.2.10 &lt;to&gt; 192.0.2.10:68</pre>"))
            // The form keeps what was typed.
            #expect(reply.text.contains("<option selected>REQUEST:RENEW</option>"))
            let unknown = try await post(client, [("csrf", testCSRF), ("mac", "02:00:00:00:00:99")])
            #expect(unknown.text.contains("No reply would be sent."))
        }
        #expect(explainer.received.withLock { $0 } == [
            ExplainForm(mac: "02:00:00:00:00:01", method: "REQUEST:RENEW", relay: "198.51.100.2", requestedIP: "192.0.2.10"),
            ExplainForm(mac: "02:00:00:00:00:99", method: ""),
        ])
    }

    @Test func aPostWithoutTheTokenRunsNothing() async throws {
        let explainer = FakeExplainer()
        try await harness(explainer: explainer).run { client in
            let forged = try await post(client, [("csrf", "wrong"), ("mac", "02:00:00:00:00:01")])
            #expect(forged.status == .forbidden)
            #expect(!forged.text.contains("explain-report"))
        }
        #expect(explainer.received.withLock { $0 }.isEmpty)
    }

    @Test func withoutCredentialsOnlyLoopbackMayUseIt() async throws {
        let explainer = FakeExplainer()
        try await harness(loopback: false, explainer: explainer).run { client in
            let page = try await client.execute(uri: "/explain", method: .get)
            #expect(page.status == .forbidden)
            #expect(!page.text.contains("name=\"mac\""))
            let run = try await post(client, [("csrf", testCSRF), ("mac", "02:00:00:00:00:01")])
            #expect(run.status == .forbidden)
        }
        #expect(explainer.received.withLock { $0 }.isEmpty)
    }

    @Test func withCredentialsItAsksForThemEvenFromLoopback() async throws {
        try await harness(credentials: true).run { client in
            let page = try await client.execute(uri: "/explain", method: .get)
            #expect(page.status == .unauthorized)
            #expect(!page.headerValues("WWW-Authenticate").isEmpty)
        }
    }

    @Test func withoutAnExplainerThereIsNoPage() async throws {
        try await Harness().run { client in
            let page = try await client.execute(uri: "/explain", method: .get)
            #expect(page.status == .notFound)
        }
    }
}
