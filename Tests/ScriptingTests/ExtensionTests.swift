import DHCPWire
import Databases
import Foundation
import Scripting
import Testing

/// Calls the web callback registered at `path` (a method) and returns its content or fragment as text.
func callMethod(_ runtime: ScriptRuntime, _ path: String, query: [String: [String]] = [:]) throws -> (mime: String?, body: String) {
    let registrations = runtime.webRegistrations()
    guard let method = registrations.methods.first(where: { $0.path == path }) else {
        throw ScriptError(.badResult, "no method at \(path); have \(registrations.methods.map(\.path))")
    }
    switch try runtime.callWebCallback(id: method.id, request: WebCallbackRequest(path: path, queryArguments: query)) {
    case .none: return (nil, "")
    case .fragment(let text): return (nil, text)
    case .content(let mime, let data, _): return (mime, String(decoding: data, as: UTF8.self))
    }
}

func dashboardElement(_ runtime: ScriptRuntime, module: String, name: String) throws -> String {
    guard let element = runtime.webRegistrations().dashboardElements.first(where: { $0.module == module && $0.name == name }) else {
        throw ScriptError(.badResult, "no dashboard element \(module) | \(name)")
    }
    guard case .fragment(let text) = try runtime.callWebCallback(id: element.id, request: WebCallbackRequest(path: "/")) else { return "" }
    return text
}

func statistics(_ method: String?, mac: MAC? = MAC(0x0200_0000_0001), processed: Bool = true, time: Double = 0.002) -> Statistics {
    Statistics(sourceIP: IPv4(198, 51, 100, 2), sourcePort: 67, mac: method == nil ? nil : mac,
                     ip: IPv4(198, 51, 100, 10), subnet: "198.51.100.0/24", serial: 0, method: method,
                     processingTime: time, processed: processed, port: 67,
               outcome: processed ? .replied : .ignored)
}

@Suite struct ExtensionTests {
    @Test func recentActivityKeepsTheLatestEventPerMACWithinLimits() throws {
        let conf = probeSource + """
            NOW = 5000
            function init()
              extensions.recent_activity.MAX_EVENTS = 2
              recent_activity = require "recent_activity"
              recent_activity.clock = function() return NOW end
            end

            """
        let (runtime, _, _) = try makeStoredRuntime(conf, extensions: try shippedExtensions())
        runtime.deliverStatistics(statistics("DISCOVER", mac: MAC(0x0200_0000_0001)))
        runtime.deliverStatistics(statistics("REQUEST:SELECTING", mac: MAC(0x0200_0000_0001)))
        runtime.deliverStatistics(statistics(nil))
        runtime.deliverStatistics(statistics("DISCOVER", mac: MAC(0x0200_0000_0002)))
        runtime.deliverStatistics(statistics("INFORM", mac: MAC(0x0200_0000_0003)))
        let html = try dashboardElement(runtime, module: "recent activity", name: "dhcp")
        #expect(html.contains("<td>INFORM</td><td>67</td><td>02:00:00:00:00:03</td><td>198.51.100.10</td><td>198.51.100.0/24</td><td>0</td>"))
        #expect(html.contains("02:00:00:00:00:02"))
        #expect(!html.contains("02:00:00:00:00:01")) // MAX_EVENTS = 2
        #expect(try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/recent-activity/render").body == html)
        _ = try evaluate(runtime, "NOW = NOW + 301; return 1")
        #expect(try dashboardElement(runtime, module: "recent activity", name: "dhcp").contains("No DHCP activity"))
        #expect(throws: ScriptError.self) {
            _ = try makeStoredRuntime("function init() extensions.recent_activity.MAX_AGE = 'x'; require 'recent_activity' end\n",
                                      extensions: try shippedExtensions())
        }
    }

    @Test func statisticsCountsAveragesAndServesCSVJSONAndSVG() throws {
        let conf = probeSource + """
            NOW = 3000
            function init()
              extensions.statistics.QUANTISATION_INTERVAL = 10
              extensions.statistics.RETENTION_COUNT = 5
              extensions.statistics.AVERAGES_WINDOWS = {0, 2}
              statistics = require "statistics"
              statistics.clock = function() return NOW end
              statistics.started = 2900
            end

            """
        let (runtime, _, _) = try makeStoredRuntime(conf, extensions: try shippedExtensions())
        for _ in 0..<4 { runtime.deliverStatistics(statistics("DISCOVER")) }
        runtime.deliverStatistics(statistics("REQUEST:SELECTING", processed: false))
        runtime.deliverStatistics(statistics(nil))
        _ = try evaluate(runtime, "NOW = NOW + 20; return 1")
        runtime.deliverStatistics(statistics("REQUEST:RENEW"))
        let csv = try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/stats/graph.csv")
        #expect(csv.mime?.hasPrefix("text/csv") == true)
        let lines = csv.body.split(separator: "\n").map(String.init)
        #expect(lines.first == "start,seconds,DISCOVER,REQUEST:RENEW,REQUEST:SELECTING,packets,discarded,other,mean_ms")
        #expect(lines.count == 4) // 3000, 3010 (quiet), 3020
        #expect(lines[1].hasSuffix(",10,4,0,1,5,1,1,2.000"))
        #expect(lines[2].hasSuffix(",10,0,0,0,0,0,0,0.000"))
        #expect(lines[3].hasSuffix(",10,0,1,0,1,0,0,2.000"))
        let json = try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/stats/graph.json")
        #expect(json.mime == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any])
        #expect((object["buckets"] as? [Any])?.count == 3)
        let lifetime = try #require(object["lifetime"] as? [String: Any])
        #expect(lifetime["packets"] as? Int == 6 && lifetime["discarded"] as? Int == 1 && lifetime["other"] as? Int == 1)
        let averages = try #require(object["averages"] as? [[String: Any]])
        #expect(averages.count == 2)
        // Window 2: the current bucket (1 s so far) and the two before it (10 s each): 6 packets in 21 s.
        #expect(averages[1]["packets"] as? Int == 6 && averages[1]["seconds"] as? Int == 21)
        let svg = try dashboardElement(runtime, module: "statistics", name: "packets per second")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("<polyline") && svg.contains(">DISCOVER</text>") && !svg.contains("<script"))
        let table = try dashboardElement(runtime, module: "statistics", name: "lifetime")
        #expect(table.contains("<tr><td>DISCOVER</td><td>4</td></tr>"))
        #expect(try dashboardElement(runtime, module: "statistics", name: "averages").contains("<td>30 s</td>") == false)
        // Old buckets leave after RETENTION_COUNT.
        _ = try evaluate(runtime, "NOW = NOW + 100; return 1")
        #expect(try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/stats/graph.csv").body.split(separator: "\n").count == 6)
    }

    @Test func feedserviceCollectsLogRecordsIntoAnAtomFeedAndRecordPages() throws {
        let conf = probeSource + """
            SYSTEM_NAME = "lab <dhcp>"
            function init()
              extensions.feedservice.SERVER_BASE = "http://198.51.100.1:30880"
              extensions.feedservice.MAX_EVENTS_FEED = 2
              feedservice = require "feedservice"
            end

            """
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString)").path
        let (runtime, _, _) = try makeStoredRuntime(conf, directory: directory, extensions: try shippedExtensions())
        #expect(runtime.logHandlerMinimumLevel == .error)
        let now = Date()
        runtime.deliverLogRecords([
            LogRecord(time: now, level: .warning, logger: "dhcp", message: "below the level"),
            LogRecord(time: now, level: .error, logger: "dhcp", message: "first <error>\nsecond line"),
            LogRecord(time: now, level: .critical, logger: "main", message: "critical & bad"),
            LogRecord(time: now, level: .error, logger: "dhcp", message: "third"),
        ])
        runtime.runTickHandlers() // saves to the store
        let feed = try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/feed")
        #expect(feed.mime?.hasPrefix("application/atom+xml") == true)
        #expect(feed.body.hasPrefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"))
        #expect(feed.body.contains("<title>lab &lt;dhcp&gt;</title>"))
        #expect(feed.body.components(separatedBy: "<entry>").count == 3) // MAX_EVENTS_FEED = 2, newest first
        #expect(feed.body.contains("<title>ERROR: third</title>"))
        #expect(feed.body.contains("CRITICAL: critical &amp; bad"))
        #expect(!feed.body.contains("below the level"))
        // Balanced: as many entries open as close, and the feed element closes last.
        #expect(feed.body.components(separatedBy: "</entry>").count == 3 && feed.body.hasSuffix("</feed>\n"))
        // Record page by uid.
        let uid = try #require(feed.body.range(of: "record?uid=").map { String(feed.body[$0.upperBound...].prefix(36)) })
        let page = try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/record", query: ["uid": [uid]])
        #expect(page.body.contains("<td>third</td>"))
        #expect(try callMethod(runtime, "/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/record", query: ["uid": ["nope"]]).body.contains("No record"))
        let header = try #require(runtime.webRegistrations().headers.first)
        guard case .fragment(let link) = try runtime.callWebCallback(id: header.id, request: WebCallbackRequest(path: "/")) else {
            Issue.record("no header fragment"); return
        }
        #expect(link.contains("rel=\"alternate\"") && link.contains("http://198.51.100.1:30880/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/feed"))
        // The records and the feed id survive a new runtime (restart or reload).
        let feedID = feed.body.components(separatedBy: "<id>urn:uuid:")[1].prefix(36)
        let (again, _, _) = try makeStoredRuntime(conf, directory: directory, extensions: try shippedExtensions())
        let second = try callMethod(again, "/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/feed").body
        #expect(second.contains("<id>urn:uuid:\(feedID)</id>"))
        #expect(second.contains("ERROR: third"))
    }

    @Test func logHandlerAPIValidatesAndTracksTheLowestLevel() throws {
        let conf = probeSource + """
            seen = {}
            function collect(record) seen[#seen + 1] = record.level_name .. ":" .. record.logger .. ":" .. record.message end
            function broken(record) error("handler broke") end

            """
        let (runtime, log, _) = try makeStoredRuntime(conf)
        #expect(runtime.logHandlerMinimumLevel == nil)
        #expect(try evaluate(runtime, "return callbacks.logAddHandler(collect, 'INFO')") == "true")
        #expect(try evaluate(runtime, "return callbacks.logAddHandler(collect)") == "false")
        #expect(runtime.logHandlerMinimumLevel == .info)
        #expect(try evaluate(runtime, "return select(2, pcall(callbacks.logAddHandler, broken, 'LOUD'))").contains("minimum_level must be one of"))
        #expect(try evaluate(runtime, "return select(2, pcall(callbacks.logAddHandler, 5))").contains("must be a function"))
        #expect(try evaluate(runtime, "return callbacks.logAddHandler(broken, 0)") == "true")
        #expect(runtime.logHandlerMinimumLevel == .debug)
        runtime.deliverLogRecords([
            LogRecord(time: Date(timeIntervalSince1970: 1), level: .debug, logger: "dhcp", message: "d"),
            LogRecord(time: Date(timeIntervalSince1970: 2), level: .warning, logger: "web", message: "w"),
        ])
        #expect(try evaluate(runtime, "return table.concat(seen, ',')") == "WARNING:web:w")
        #expect(log.contains("handler broke", level: .error))
        #expect(try evaluate(runtime, "return callbacks.logRemoveHandler(broken)") == "true")
        #expect(runtime.logHandlerMinimumLevel == .info)
        #expect(try evaluate(runtime, "return callbacks.logRemoveHandler(collect)") == "true")
        #expect(runtime.logHandlerMinimumLevel == nil)
    }
}

/// The examples of docs/SCRIPTING.md's "Reference by name" that run outside a hook.
@Suite struct DocumentationExampleTests {
    @Test func referenceExamplesRun() throws {
        let (runtime, _, _) = try makeStoredRuntime(probeSource)
        let result = try evaluate(runtime, """
            assert(MAC.parse("AA-BB-CC-DD-EE-FF") == "aa:bb:cc:dd:ee:ff")
            assert(IPv4.fromInt(IPv4.toInt("192.0.2.9") + 1) == "192.0.2.10")
            assert(IPv4.inSubnet("198.51.100.7", "198.51.100.0/24"))
            assert(listToIP({192, 0, 2, 1}) == "192.0.2.1" and ipToList("192.0.2.1")[4] == 1)
            assert(listToInt({127, 10}) == 32522)
            local l = longToList(269975306); assert(l[1] == 16 and l[4] == 10)
            local p = strToPaddedList("hello", 7); assert(#p == 7 and p[1] == 104 and p[7] == 0)
            assert(rfc3397_119("example.org,lab.example.org"):getValue())
            assert(rfc2610_78(true, "192.0.2.20"):getValue())
            assert(rfc3361_120("sip.example.org"):getValue())
            assert(rfc3442_121({ {{"203.0.113.0", 24}, "192.0.2.1"} }):getValue())
            assert(rfc3925_125({[3561] = {[1] = strToList("abc")}}):getValue())
            assert(rfc5678_139({ {1, "192.0.2.30"} }):getValue())
            local log = logging.getLogger("extension.lab"); log.info("ready")
            logger.warning("%s asked for %s", "aa:bb:cc:dd:ee:ff", tostring(nil))
            extensions.lab.GREETING = "hi"
            local cfg = extensions.lab:extension_config_merge({GREETING = "hello", OTHER = 1}, {})
            assert(cfg.GREETING == "hi" and cfg.OTHER == 1)
            assert(Definition{ip = "192.0.2.10", lease_time = 3600, subnet = "192.0.2.0/24", serial = 0}.ip == "192.0.2.10")
            store.update("hits", function(old) return (old or 0) + 1 end)
            assert(store.get("hits") == 1)
            assert(callbacks.webAddMethod("/lab/ping", function(path, q) return "text/plain", "pong " .. (q.n and q.n[1] or "") end))
            assert(callbacks.logAddHandler(function(r) last_error = r.message end, "ERROR"))
            return "ok"
            """)
        #expect(result == "ok")
        #expect(try callMethod(runtime, "/lab/ping", query: ["n": ["7"]]).body == "pong 7")
    }
}
