import DHCPWire
import Databases
import Scripting
import Testing

/// The script-facing API: each script returns true when all its assertions hold.
@Suite struct APITests {
    private func check(_ body: String) throws -> (ScriptRuntime, LogRecorder, Bool) {
        let (runtime, log) = try makeRuntime("function filterPacket(packet, method, mac)\n\(body)\nreturn true\nend\n")
        var packet = requestPacket()
        let verdict = try runtime.filterPacket(&packet, context()).value!
        return (runtime, log, verdict == .accept)
    }

    @Test func conversions() throws {
        let (_, log, ok) = try check("""
        local function same(a, b) assert(#a == #b, "length"); for i = 1, #a do assert(a[i] == b[i], "item " .. i) end end
        assert(listToIP({192, 0, 2, 1}) == "192.0.2.1")
        same(ipToList("192.0.2.1"), {192, 0, 2, 1})
        same(listToIPs({127, 0, 0, 1, 127, 0, 0, 2}), {"127.0.0.1", "127.0.0.2"})
        same(ipsToList("127.0.0.1, 127.0.0.2"), {127, 0, 0, 1, 127, 0, 0, 2})
        assert(listToInt({127, 10}) == 32522)
        same(listToInts({127, 10, 127, 9}), {32522, 32521})
        assert(listToLong({16, 23, 127, 10}) == 269975306)
        same(intToList(32522), {127, 10})
        same(longToList(269975306), {16, 23, 127, 10})
        same(longsToList({269975306, 269975305}), {16, 23, 127, 10, 16, 23, 127, 9})
        same(strToList("hi"), {104, 105})
        same(strToPaddedList("hello", 7), {104, 101, 108, 108, 111, 0, 0})
        assert(listToStr({104, 101, 108, 108, 111}) == "hello")
        assert(not pcall(listToStr, {300}))
        assert(MAC.parse("AA-BB-CC-DD-EE-FF") == "aa:bb:cc:dd:ee:ff")
        assert(MAC.toInt("00:00:00:00:01:00") == 256)
        assert(IPv4.inSubnet("192.0.2.77", "192.0.2.0/24") and not IPv4.inSubnet("198.51.100.1", "192.0.2.0", 24))
        assert(IPv4.compare("192.0.2.9", "192.0.2.10") == -1 and IPv4.toInt("0.0.1.0") == 256)
        assert(IPv4.parse("nonsense") == nil)
        """)
        #expect(ok, "\(log.messages)")
    }

    @Test func rfcHelpers() throws {
        let (_, log, ok) = try check("""
        local function same(a, b) assert(#a == #b, "length " .. #a .. " vs " .. #b); for i = 1, #a do assert(a[i] == b[i], "item " .. i) end end
        local names = {7,101,120,97,109,112,108,101,3,111,114,103,0,4,117,103,117,117,2,99,97,0}
        same(rfc1035_plus("example.org, uguu.ca"):getValue(), names)
        same(rfc3397_119("example.org,uguu.ca"):getValue(), names)
        same(rfc2610_78(true, "192.0.2.1, 192.0.2.2"):getValue(), {1, 192,0,2,1, 192,0,2,2})
        same(rfc2610_79(false, "default"):getValue(), {0, 100,101,102,97,117,108,116})
        same(rfc3361_120("192.0.2.1,192.0.2.2"):getValue(), {1, 192,0,2,1, 192,0,2,2})
        same(rfc3442_121({ {{"0.0.0.0", 0}, "192.0.2.1"}, {{"10.0.0.0", 8}, "192.0.2.254"} }):getValue(),
             {0, 192,0,2,1, 8, 10, 192,0,2,254})
        same(rfc3925_124({[1] = {104,101,108,108,111}}):getValue(), {0,0,0,1, 5, 104,101,108,108,111})
        same(rfc3925_125({[1] = {[45] = {104,101,108,108,111}}}):getValue(), {0,0,0,1, 7, 45, 5, 104,101,108,108,111})
        same(rfc4174_83(7, 63, 15, 127, "192.0.2.1"):getValue(), {0,7, 0,63, 0,15, 0,0,0,127, 192,0,2,1})
        same(rfc5678_139({ {1, "192.0.2.1"}, {2, "192.0.2.2"} }):getValue(), {1, 4, 192,0,2,1, 2, 4, 192,0,2,2})
        assert(rfc1035_plus("a.b") == rfc1035_plus("a.b") and rfc1035_plus("a.b"):equals({1,97,1,98,0}))
        local raw = {1, 3, 65, 66, 67, 2, 2, 1, 2}
        local decoded = rfc3046_decode(raw)
        same(decoded[1], {65, 66, 67}); same(decoded[2], {1, 2}); assert(#raw == 9)
        same(rfc3925_decode({0,0,0,9, 3, 1,2,3})[9], {1, 2, 3})
        same(rfc3925_125_decode({0,0,0,9, 5, 1,3,7,8,9})[9][1], {7, 8, 9})
        """)
        #expect(ok, "\(log.messages)")
    }

    @Test func packetMethodsAndProperties() throws {
        let (runtime, log) = try makeRuntime("""
        function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
          packet:setOption(51, 3600)
          packet:setOption("router", "192.0.2.1, 192.0.2.2")
          packet:setOption("domain_search", rfc3397_119("example.org"), true, true)
          assert(packet:getOption("router", true)[2] == "192.0.2.2")
          assert(packet:getOption(51, true) == 3600)
          assert(packet:isOption(51) and not packet:isOption(66))
          assert(packet:getHardwareAddress() == mac)
          assert(not pcall(packet.setOption, packet, "router", {192}))
          packet:setOption(66, "tftp.example")
          assert(packet:deleteOption(66) == true and packet:deleteOption(66) == false)
          packet.response_ip = "192.0.2.9"
          packet.response_port = 1068
          assert(packet.response_ip == "192.0.2.9")
          assert(source_packet:getOption(50, true) == "192.0.2.10")
          assert(source_packet:getDHCPMessageTypeName() == "DHCP_REQUEST")
          assert(packet.meta.seen == "filterPacket")
          local copy = packet:copy(); copy:setOption(51, 1)
          assert(packet:getOption(51, true) == 3600)
          return true
        end
        function filterPacket(packet) packet.meta.seen = "filterPacket"; return true end
        """)
        var request = requestPacket()
        #expect(try runtime.filterPacket(&request, context(requestID: 7)).value! == .accept)
        var response = requestPacket()
        response.transformToAck()
        #expect(try runtime.loadDHCPPacket(&response, context(requestID: 7), definition: sampleDefinition, source: requestPacket()).value!,
                "\(log.messages)")
        #expect(response.option(51) == [0, 0, 14, 16])
        #expect(response.option(3) == [192, 0, 2, 1, 192, 0, 2, 2])
        #expect(response.responseIP == IPv4(192, 0, 2, 9) && response.responsePort == 1068)
        #expect(!response.hasOption(66))
        runtime.endRequest(7)
        // After endRequest the meta table is gone: a new request starts empty.
        #expect(throws: ScriptError.self) {
            try runtime.loadDHCPPacket(&response, context(requestID: 7), definition: sampleDefinition, source: requestPacket()).value!
        }
    }

    @Test func callbacksAndWebRegistrations() throws {
        let (runtime, log) = try makeRuntime("""
        local function header(path) return "<meta name='x'/>" end
        local function panel(path, query) return "<p>" .. path .. (query.q and query.q[1] or "") .. "</p>" end
        local function csv(path, query, mimetype, data, headers) return "text/csv", "a,b\\n", { ["X-Test"] = "1" } end
        callbacks.webAddHeader(header)
        callbacks.webAddDashboard("tests", "panel", panel)
        callbacks.webAddDashboard("tests", "first", function() end, -5)
        callbacks.webAddMethod("/tests/data.csv", csv, { hidden = false, name = "data", module = "tests" })
        assert(callbacks.webAddMethod("/tests/data.csv", csv) == false)
        assert(callbacks.WEB_METHOD_RAW == 3)
        _STATS = {}
        callbacks.statsAddHandler(function(s) _STATS[#_STATS + 1] = s.method .. " " .. s.mac .. " " .. tostring(s.processed) end)
        callbacks.systemAddReinitHandler(function() error("reinit failed") end)
        extensions.demo.KEY = 5
        local merged = extensions.demo:extension_config_merge({ KEY = 1, OTHER = 2 }, { "KEY" })
        assert(merged.KEY == 5 and merged.OTHER == 2)
        assert(not pcall(function() return extensions.demo.MISSING end))
        """)
        let registrations = runtime.webRegistrations()
        #expect(registrations.headers.count == 1)
        #expect(registrations.dashboardElements.map(\.name) == ["first", "panel"])
        #expect(registrations.methods.first?.path == "/tests/data.csv" && registrations.methods.first?.hidden == false)
        #expect(log.contains("already registered", level: .error))
        let panel = try #require(registrations.dashboardElements.last)
        #expect(try runtime.callWebCallback(id: panel.id, request: WebCallbackRequest(path: "/", queryArguments: ["q": ["z"]])) == .fragment("<p>/z</p>"))
        let method = try #require(registrations.methods.first)
        #expect(try runtime.callWebCallback(id: method.id, request: WebCallbackRequest(path: "/tests/data.csv"))
            == .content(mimeType: "text/csv", data: Array("a,b\n".utf8), headers: ["X-Test": "1"]))
        #expect(runtime.hasStatisticsHandlers)
        runtime.deliverStatistics(Statistics(sourceIP: IPv4(192, 0, 2, 5), sourcePort: 68, mac: testMAC, ip: nil,
                                                   subnet: nil, serial: nil, method: "DISCOVER", processingTime: 0.001,
                                                   processed: true, port: 67, outcome: .replied))
        #expect(!log.contains("statistics handler"))
        let errors = runtime.runReinitHandlers()
        #expect(errors.count == 1 && errors[0].description.contains("reinit failed"))
    }

    /// `public` and `json_api` (table form only) reach the registration; both default to false,
    /// and `secure` with `public` is refused (issue 21; docs/SCRIPTING.md, webAddMethod).
    @Test func webAddMethodAccessOptions() throws {
        let (runtime, _) = try makeRuntime("""
        local function page() return "text/plain", "x" end
        callbacks.webAddMethod("/open", page, { public = true })
        callbacks.webAddMethod("/hook", page, { json_api = true })
        callbacks.webAddMethod("/plain", page, { hidden = false })
        local ok, err = pcall(callbacks.webAddMethod, "/both", page, { secure = true, public = true })
        assert(not ok and tostring(err):find("both secure"), tostring(err))
        ok, err = pcall(callbacks.webAddMethod, "/typo", page, { public = "yes" })
        assert(not ok, "a non-boolean public is refused")
        """)
        let methods = Dictionary(uniqueKeysWithValues: runtime.webRegistrations().methods.map { ($0.path, $0) })
        #expect(methods.keys.sorted() == ["/hook", "/open", "/plain"])
        #expect(methods["/open"]?.isPublic == true && methods["/open"]?.jsonAPI == false)
        #expect(methods["/hook"]?.jsonAPI == true && methods["/hook"]?.isPublic == false)
        #expect(methods["/plain"]?.isPublic == false && methods["/plain"]?.jsonAPI == false)
    }
}

@Suite struct ScriptMetricsTests {
    @Test func handlersGiveSamplesAndBadOnesAreNamedAndLeftOut() throws {
        let (runtime, log) = try makeRuntime("""
            callbacks.metricsAddHandler(function()
              return {
                { name = "pool_free", help = "Free addresses.", value = 7, labels = { pool = "lab" } },
                { name = "hits_total", type = "counter", value = 2.5 },
                { name = "9bad", value = 1 },
                { name = "no_value" },
                { name = "odd", type = "histogram", value = 1 },
              }
            end)
            callbacks.metricsAddHandler(function() error("boom") end)
            """)
        let samples = try #require(try runtime.startMetrics().value)
        #expect(samples.map(\.name) == ["pool_free", "hits_total"])
        #expect(samples[0].labels == ["pool": "lab"])
        #expect(samples[0].type == "gauge" && samples[0].value == 7 && samples[0].help == "Free addresses.")
        #expect(samples[1].type == "counter" && samples[1].value == 2.5)
        #expect(log.contains("'9bad' must be letters"))
        #expect(log.contains("no_value has no numeric value"))
        #expect(log.contains("type 'histogram'"))
        #expect(log.contains("boom"))
    }

    @Test func webMethodHeadersAreFoundWhateverTheCaseOfTheirName() throws {
        let (runtime, _) = try makeRuntime("""
        function init()
          callbacks.webAddMethod("/tests/agent", function(path, q, mimetype, data, headers)
            local names = {}
            for name in pairs(headers) do names[#names + 1] = name end
            table.sort(names)
            return "text/plain", (headers["User-Agent"] or "?") .. "|" .. (headers["user-agent"] or "?") .. "|"
              .. (headers["X-MISSING"] or "none") .. "|" .. table.concat(names, ",")
          end)
        end
        """)
        try runtime.callInit()
        let method = try #require(runtime.webRegistrations().methods.first)
        let answer = try runtime.callWebCallback(id: method.id, request: WebCallbackRequest(
            path: "/tests/agent", headers: ["User-Agent": "curl/8", "Accept": "*/*"]))
        #expect(answer == .content(mimeType: "text/plain", data: Array("curl/8|curl/8|none|accept,user-agent".utf8), headers: [:]))
    }
}
