import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

@Suite struct RouteTests {
    @Test func dashboardShowsHeaderSidebarAndBuiltinElementsInOrder() async throws {
        try await Harness().run { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .ok)
            #expect(response.header("Content-Type") == "text/html; charset=utf-8")
            let html = response.text
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(html.contains("<title>staticDHCPd</title>"))
            #expect(html.contains("online for <b id=\"uptime\">1h 00m 00s</b>"))
            // Built-ins in ordering order, the Lua element (ordering -500) first, events last.
            let order = ["id=\"greeting\"", "id=\"status\"", "id=\"activity\"", "id=\"clients\"", "id=\"events\""]
            let positions = order.map { html.range(of: $0)?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil })
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
            #expect(html.contains("conf.lua:12: unexpected symbol"))
            #expect(html.contains("87.5 %"))
            #expect(html.contains("aa:bb:cc:dd:ee:01"))
            // The log is escaped and newest first.
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; blocked"))
            #expect(!html.contains("<script>alert(1)"))
            #expect(html.range(of: "blocked")!.lowerBound < html.range(of: "DHCP server started")!.lowerBound)
            // Sidebar: visible methods only, grouped by module; the hidden ones are absent.
            #expect(html.contains("<h2>lab</h2>"))
            #expect(html.contains("href=\"/ext/template\""))
            #expect(!html.contains("href=\"/ext/raw\""))
            #expect(html.contains("action=\"\(reinitialisePath)\""))
            // Script header fragment is in <head>; no external resources.
            #expect(html.contains("<meta name=\"lab-extension\" content=\"loaded\">"))
            #expect(!html.contains("http://") || !html.contains("src=\"http"))
            #expect(!html.contains("https://"))
            #expect(html.contains("<svg id=\"activity-chart\""))
        }
    }

    @Test func theContentSecurityPolicyIsStrictUnlessConfigured() async throws {
        try await Harness().run { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.header("Content-Security-Policy") == WebConfiguration.strictContentSecurityPolicy)
            #expect(response.header("Content-Security-Policy")?.contains("unsafe-inline") == false)
        }
        let loose = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"
        try await Harness { $0.contentSecurityPolicy = loose }.run { client in
            let page = try await client.execute(uri: "/", method: .get)
            let css = try await client.execute(uri: "/css", method: .get)
            #expect(page.header("Content-Security-Policy") == loose)
            #expect(css.header("Content-Security-Policy") == loose)
        }
    }

    @Test func everyResponseCarriesSecurityAndCacheHeaders() async throws {
        try await Harness().run { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
            #expect(response.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
            #expect(response.header("X-Content-Type-Options") == "nosniff")
            #expect(response.header("X-Frame-Options") == "DENY")
            #expect(response.header("Expires") == "Tue, 03 Jul 2001 06:00:00 GMT")
            #expect(response.header("Last-Modified")?.hasSuffix("GMT") == true)
            let css = try await client.execute(uri: "/css", method: .get)
            #expect(css.header("Cache-Control") == "max-age=3600")
            #expect(css.header("X-Frame-Options") == "DENY")
        }
    }

    @Test func staticResourcesAreServedByTheDaemon() async throws {
        try await Harness().run { client in
            let css = try await client.execute(uri: "/css", method: .get)
            #expect(css.status == .ok && css.header("Content-Type") == "text/css; charset=utf-8")
            #expect(css.text.contains("max-height: 400px;"))
            let script = try await client.execute(uri: "/javascript", method: .get)
            #expect(script.header("Content-Type") == "text/javascript; charset=utf-8")
            #expect(script.text.contains("function rewriteLocation(path)"))
            let ico = try await client.execute(uri: "/favicon.ico", method: .get)
            #expect(ico.header("Content-Type") == "image/x-icon")
            #expect(Array(ico.body.readableBytesView.prefix(4)) == [0, 0, 1, 0])
            #expect(ico.body.readableBytes == 22 + 40 + 16 * 16 * 4 + 64)
            let svg = try await client.execute(uri: "/favicon.svg", method: .get)
            #expect(svg.header("Content-Type") == "image/svg+xml")
        }
    }

    @Test func debugMakesStaticResourcesUncacheableAndDisabledOnesDisappear() async throws {
        try await Harness { $0.debug = true; $0.headerFavicon = false; $0.logMaxHeight = nil }.run { client in
            let css = try await client.execute(uri: "/css", method: .get)
            #expect(css.header("Cache-Control") == "max-age=0, no-cache, must-revalidate, proxy-revalidate")
            #expect(!css.text.contains("max-height: "))
            let response1 = try await client.execute(uri: "/favicon.ico", method: .get)
            #expect(response1.status == .notFound)
        }
    }

    @Test func unknownPathsAnswer404AndWrongMethods405() async throws {
        try await Harness().run { client in
            let missing = try await client.execute(uri: "/nowhere?x=<b>", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("/nowhere"))
            let apiMissing = try await client.execute(uri: "/api/nothing", method: .get)
            #expect(apiMissing.status == .notFound && apiMissing.header("Content-Type") == "application/json")
            let put = try await client.execute(uri: "/", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(put.header("Allow") == "GET, HEAD")
            let getReload = try await client.execute(uri: "/api/reload", method: .get)
            #expect(getReload.status == .methodNotAllowed && getReload.header("Allow") == "POST")
            let delete = try await client.execute(uri: "/css", method: .delete)
            #expect(delete.status == .methodNotAllowed)
        }
    }

    @Test func oversizedBodiesAnswer413() async throws {
        try await Harness { $0.maxBodyBytes = 1024 }.run { client in
            let big = ByteBuffer(string: String(repeating: "x", count: 5000))
            let response = try await client.execute(uri: "/ext/raw", method: .post, headers: [.contentType: "text/plain"], body: big)
            #expect(response.status == .contentTooLarge)
            let fits = try await client.execute(uri: "/ext/raw", method: .post, headers: [.contentType: "text/plain; charset=utf-8", csrfHeader: testCSRF], body: ByteBuffer(string: "small"))
            #expect(fits.status == .ok && fits.text == "hello nobody text/plain small")
        }
    }

    @Test func headAnswersWithoutBody() async throws {
        try await Harness().run { client in
            let response = try await client.execute(uri: "/api/status", method: .head)
            #expect(response.status == .ok)
            #expect(response.body.readableBytes == 0)
            #expect(Int(response.header("Content-Length") ?? "") ?? 0 > 0)
        }
    }

    @Test func jsonAPI() async throws {
        try await Harness().run { client in
            let status = try await client.execute(uri: "/api/status", method: .get)
            #expect(status.header("Content-Type") == "application/json")
            let document = try JSONSerialization.jsonObject(with: Data(status.text.utf8)) as! [String: Any]
            #expect(document["systemName"] as? String == "staticDHCPd")
            #expect(document["uptimeSeconds"] as? Int == 3600)
            #expect(document["databaseEngine"] as? String == "SQLite")
            #expect((document["lastReload"] as? [String: Any])?["error"] as? String == "conf.lua:12: unexpected symbol")
            let peers = document["peers"] as? [[String: Any]] ?? []
            #expect(peers.map { $0["serverIP"] as? String } == ["192.0.2.1", "192.0.2.2"])
            #expect(peers.map { $0["secondsSinceHeard"] as? Double } == [2, 40])
            #expect(peers.map { $0["isSelf"] as? Bool } == [true, false])

            let statistics = try await client.execute(uri: "/api/statistics", method: .get)
            let metrics = try JSONDecoder().decode(MetricsSnapshot.self, from: Data(statistics.text.utf8))
            #expect(metrics.packets["DISCOVER"]?["replied"] == 10)

            let activity = try await client.execute(uri: "/api/activity", method: .get)
            let series = try JSONSerialization.jsonObject(with: Data(activity.text.utf8)) as! [String: Any]
            #expect((series["series"] as? [String: [Double]])?["DISCOVER"]?.count == 360)
            #expect(series["intervalSeconds"] as? Int == 10)

            let clients = try await client.execute(uri: "/api/clients", method: .get)
            let list = try JSONSerialization.jsonObject(with: Data(clients.text.utf8)) as! [[String: Any]]
            #expect(list.first?["outcome"] as? String == "ACK")
            #expect(list.first?["mac"] as? String == "aa:bb:cc:dd:ee:01")

            let log = try await client.execute(uri: "/api/log", method: .get)
            let records = try JSONSerialization.jsonObject(with: Data(log.text.utf8)) as! [[String: Any]]
            #expect(records.count == 2 && records[0]["level"] as? String == "warn")
        }
    }

    @Test func metricsInPrometheusTextFormat() async throws {
        try await Harness().run { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = response.text
            #expect(text.contains("# TYPE staticdhcpd_packets_total counter\n"))
            #expect(text.contains("staticdhcpd_packets_total{method=\"DISCOVER\",outcome=\"replied\"} 10\n"))
            #expect(text.contains("staticdhcpd_replies_sent_total{type=\"OFFER\"} 10\n"))
            #expect(text.contains("staticdhcpd_drops_total{reason=\"blocklisted\"} 1\n"))
            #expect(text.contains("staticdhcpd_hook_duration_seconds_sum 0.25\n"))
            #expect(text.contains("staticdhcpd_database_lookup_duration_seconds_count 10\n"))
            #expect(text.contains("staticdhcpd_cache_hits_total 7\n"))
            #expect(text.contains("staticdhcpd_reload_failures_total 0\n"))
            #expect(text.contains("# TYPE staticdhcpd_abuse_table_evictions_total counter\nstaticdhcpd_abuse_table_evictions_total 4500\n"))
            // The scripts' samples: one family per name, samples together, labels escaped.
            #expect(text.contains("# TYPE staticdhcpd_pool_free gauge\nstaticdhcpd_pool_free{pool=\"lab\"} 7\nstaticdhcpd_pool_free{pool=\"a\\\"b\"} 3\n"))
            #expect(!text.contains("staticdhcpd_packets_total 99")) // a script cannot shadow the daemon's own
            // Two peers share the store; one was last heard 40 s ago, past three heartbeats.
            #expect(text.contains("staticdhcpd_peers 1\n"))
            #expect(MetricsExposition.escape("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
        }
    }

    @Test func statusShowsTheStoreAndEachPeerWithItsAge() async throws {
        try await Harness().run { client in
            let html = try await client.execute(uri: "/", method: .get).text
            #expect(html.contains("PostgreSQL staticdhcpd_store on 192.0.2.5:5432/dhcp"))
            #expect(html.contains("<td>REQUEST:SELECTING</td><td>ACK</td>"))
            #expect(html.contains("dhcp-a 192.0.2.1 on a (this one), generation 3, <span class=\"ok\">heard 2"))
            #expect(html.contains("dhcp-b 192.0.2.2 on b, generation 7, <span class=\"bad\">heard 40"))
        }
    }

    @Test func eventsElementDisappearsWhenLogHistoryIsZero() async throws {
        try await Harness { $0.logHistory = 0 }.run { client in
            let html = try await client.execute(uri: "/", method: .get).text
            #expect(!html.contains("id=\"events\""))
            #expect(html.contains("id=\"status\""))
        }
    }
}
