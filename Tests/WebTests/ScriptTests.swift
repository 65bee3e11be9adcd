import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// The Lua web API as an extension uses it: a header, a dashboard element, each display mode,
/// and callbacks that fail or hang.
@Suite struct ScriptTests {
    @Test func rawMethodReceivesQueryAndBody() async throws {
        try await Harness().run { client in
            let get = try await client.execute(uri: "/ext/raw?name=lua%20fan&name=second", method: .get)
            #expect(get.status == .ok)
            #expect(get.header("Content-Type") == "text/plain")
            #expect(get.text == "hello lua fan - -")
            #expect(get.header("Cache-Control") == "max-age=0, no-cache, must-revalidate, proxy-revalidate")
            let post = try await client.execute(uri: "/ext/raw", method: .post, headers: [.contentType: "application/json", csrfHeader: testCSRF], body: ByteBuffer(string: "{\"a\":1}"))
            #expect(post.text == "hello nobody application/json {\"a\":1}")
        }
    }

    @Test func rawMethodWithHeadersAndCacheable() async throws {
        try await Harness().run { client in
            let response = try await client.execute(uri: "/ext/raw-headers", method: .get)
            #expect(response.header("X-Extension") == "yes")
            #expect(response.header("Content-Type") == "text/csv")
            #expect(response.header("Content-Length") == "4")
            #expect(response.header("Cache-Control") == "max-age=3600")
        }
    }

    @Test func templateModeShowsOnlyTheElement() async throws {
        try await Harness().run { client in
            let html = try await client.execute(uri: "/ext/template", method: .get).text
            #expect(html.contains("<p id=\"templated\">template body</p>"))
            #expect(html.contains("lab |</span> template page"))
            #expect(!html.contains("id=\"status\""))
            #expect(html.contains("<a href=\"/ext/template\" class=\"current\">"))
        }
    }

    @Test func dashboardModeShowsTheElementFirstThenTheDashboard() async throws {
        try await Harness().run { client in
            let html = try await client.execute(uri: "/ext/dashboard", method: .get).text
            let method = html.range(of: "id=\"dashboarded\"")!.lowerBound
            let greeting = html.range(of: "id=\"greeting\"")!.lowerBound
            #expect(method < greeting)
            #expect(html.contains("id=\"status\""))
            #expect(html.contains("<body data-rewrite=\"/\">"))
            // confirm=true puts a confirmation on its sidebar link.
            #expect(html.contains("href=\"/ext/dashboard\" class=\"current\" data-confirm=\"lab | dashboard page asks you to confirm your intent."))
        }
    }

    @Test func failingElementBecomesAnErrorBoxWithoutInternals() async throws {
        var harness = Harness()
        harness.scripts = FakeScripts(failingElement: true)
        try await harness.run { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .ok)
            let html = response.text
            #expect(html.contains("<p class=\"box error\">dashboard element lab | broken failed; see the server log.</p>"))
            #expect(!html.contains("secret internals"))
            #expect(html.contains("hello from Lua"))
        }
    }

    @Test func slowElementTimesOutInsteadOfHangingThePage() async throws {
        var harness = Harness()
        harness.scripts = FakeScripts(slowElement: true)
        try await harness.run { client in
            let started = ContinuousClock.now
            let html = try await client.execute(uri: "/", method: .get).text
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(html.contains("dashboard element lab | sleepy did not answer in time."))
        }
    }

    @Test func failingMethodsAnswer500WithoutInternals() async throws {
        try await Harness().run { client in
            let template = try await client.execute(uri: "/ext/fails", method: .get)
            #expect(template.status == .internalServerError)
            #expect(template.text.contains("class=\"box error\""))
            #expect(!template.text.contains("traceback"))
            let raw = try await client.execute(uri: "/ext/fails-raw", method: .get)
            #expect(raw.status == .internalServerError && raw.text == "Internal server error\n")
        }
    }

    @Test func hangingRawMethodTimesOut() async throws {
        try await Harness().run { client in
            let started = ContinuousClock.now
            let response = try await client.execute(uri: "/ext/hangs", method: .get)
            #expect(response.status == .internalServerError)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test func withoutScriptsOnlyBuiltinsRemain() async throws {
        var harness = Harness()
        harness.scripts = nil
        try await harness.run { client in
            let response1 = try await client.execute(uri: "/", method: .get)
            #expect(response1.status == .ok)
            let response2 = try await client.execute(uri: "/ext/raw", method: .get)
            #expect(response2.status == .notFound)
        }
    }
}
