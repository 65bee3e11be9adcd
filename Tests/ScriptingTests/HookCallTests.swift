import Databases
import DHCPWire
import Foundation
import Scripting
import Testing

/// What the cheap hook call (packet tokens, flat definitions, caches) must keep true.
@Suite struct HookCallTests {
    @Test func packetKeptFromAnEarlierCallIsRefusedNotAliased() throws {
        let (runtime, log) = try makeRuntime("""
        function filterPacket(packet, method, mac)
          if _KEPT == nil then
            _KEPT = packet
            _COPY = packet:copy()
            return true
          end
          assert(_KEPT ~= packet, "a new call must show a new packet value")
          local ok, message = pcall(_KEPT.getOption, _KEPT, 53)
          assert(not ok and message:find("no longer available"), message)
          ok, message = pcall(function() return _KEPT.meta end)
          assert(not ok and message:find("no longer available"), message)
          -- A copy owns its packet: still readable, and still the first request's.
          assert(_COPY:getHardwareAddress() == "aa:bb:cc:dd:ee:ff")
          assert(packet:getHardwareAddress() == mac)
          return true
        end
        """)
        var first = requestPacket()
        #expect(try runtime.filterPacket(&first, context(requestID: 1)).value! == .accept)
        var second = requestPacket(mac: MAC(0x0011_2233_4455))
        #expect(try runtime.filterPacket(&second, context(mac: MAC(0x0011_2233_4455), requestID: 2)).value! == .accept,
                "\(log.messages)")
        #expect(!log.contains("failed"))
    }

    @Test func otherLightUserdataIsNotAPacket() throws {
        let (runtime, log) = try makeRuntime("""
        function filterPacket(packet)
          local x = 1
          local function f() return x end
          local id = debug.upvalueid(f, 1)
          local ok, message = pcall(packet.getOption, id, 53)
          assert(not ok and message:find("expected a packet"), message)
          ok, message = pcall(packet.getOption, {}, 53)
          assert(not ok and message:find("expected a packet"), message)
          return type(packet) == "userdata" and getmetatable(packet) == false
        end
        """)
        var packet = requestPacket()
        #expect(try runtime.filterPacket(&packet, context()).value! == .accept, "\(log.messages)")
    }

    @Test func metaIsSharedWithinARequestAndFreshAcrossRequests() throws {
        let (runtime, log) = try makeRuntime("""
        function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
          packet.meta.count = (packet.meta.count or 0) + 1
          assert(rawequal(packet.meta, packet.meta))
          assert(rawequal(packet.meta, source_packet.meta))
          assert(rawequal(packet:copy().meta, packet.meta))
          assert(packet.response_port == nil and packet.word_size == 4 and not pcall(function() return packet.nonsense end))
          return packet.meta.count == 1 and packet.meta.from_filter == true
        end
        function filterPacket(packet) packet.meta.from_filter = true; return true end
        """)
        for requestID in UInt64(1)...3 {
            var request = requestPacket()
            #expect(try runtime.filterPacket(&request, context(requestID: requestID)).value! == .accept)
            var response = requestPacket()
            #expect(try runtime.loadDHCPPacket(&response, context(requestID: requestID), definition: nil, source: request).value!,
                    "\(log.messages)")
            runtime.endRequest(requestID)
        }
    }

    @Test func methodStringFollowsEachCall() throws {
        let (runtime, _) = try makeRuntime("""
        SEEN = {}
        function filterPacket(packet, method) SEEN[#SEEN + 1] = method; return method ~= "INFORM" end
        """)
        var packet = requestPacket()
        let methods = ["DISCOVER", "REQUEST:SELECTING", "REQUEST:SELECTING", "INFORM", "SOMETHING-NEW", "DISCOVER"]
        var verdicts: [FilterVerdict] = []
        for (index, method) in methods.enumerated() {
            verdicts.append(try runtime.filterPacket(&packet, context(method, requestID: UInt64(index))).value!)
        }
        #expect(verdicts == [.accept, .accept, .accept, .drop, .accept, .accept])
    }

    @Test func optionNamesResolveTheSameWhenCached() throws {
        let (runtime, log) = try makeRuntime("""
        function loadDHCPPacket(packet)
          for round = 1, 3 do
            packet:setOption("renewal_time_value", 1800 + round)
            packet:setOption("rebinding_time_value", 3150)
            packet:setOption("router", "192.0.2.1")
            packet:setOption("yiaddr", "192.0.2.77")
            local ok, message = pcall(packet.setOption, packet, "no_such_option", 1)
            assert(not ok and message:find("no_such_option"), message)
            ok, message = pcall(packet.setOption, packet, string.rep("x", 60), 1)
            assert(not ok and message:find("no option or field"), message)
            ok, message = pcall(packet.setOption, packet, 0, 1)
            assert(not ok and message:find("outside 1..254"), message)
          end
          return packet:getOption("renewal_time_value", true) == 1803
        end
        """)
        var response = requestPacket()
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: nil, source: requestPacket()).value!, "\(log.messages)")
        #expect(response.option(58) == [0, 0, 0x07, 0x0B])
        #expect(response.option(59) == [0, 0, 0x0C, 0x4E])
        #expect(response.yiaddr == IPv4(192, 0, 2, 77))
    }

    @Test func definitionFieldsSurviveTheFlatLayout() throws {
        let rich = Definition(
            ip: IPv4(192, 0, 2, 99), leaseTime: 600, subnet: "192.0.2.0/24 (lab)", serial: -3,
            hostname: "häst", gateways: [IPv4(192, 0, 2, 1), IPv4.zero], subnetMask: IPv4(255, 255, 255, 0),
            broadcastAddress: nil, domainName: "example.org", domainNameServers: [IPv4(198, 51, 100, 53)],
            ntpServers: [], extra: ["rack": .string("b7"), "slots": .list([.integer(1), .double(2.5), .bool(true)]),
                                    "nested": .table(["deep": .table(["x": .integer(-1)])])])
        let (runtime, log) = try makeRuntime("""
        function loadDHCPPacket(packet, method, mac, d)
          assert(d.ip == "192.0.2.99" and d.lease_time == 600 and d.serial == -3)
          assert(d.subnet == "192.0.2.0/24 (lab)" and d.hostname == "häst" and d.domain_name == "example.org")
          assert(d.gateways[1] == "192.0.2.1" and d.gateways[2] == "0.0.0.0" and #d.gateways == 2)
          assert(d.subnet_mask == "255.255.255.0" and d.broadcast_address == nil)
          assert(d.domain_name_servers[1] == "198.51.100.53" and #d.ntp_servers == 0)
          assert(d.extra.rack == "b7" and d.extra.slots[2] == 2.5 and d.extra.slots[3] == true)
          assert(d.extra.nested.deep.x == -1 and d.nonsense == nil)
          assert(not pcall(function() d.ip = "192.0.2.1" end))
          KEPT = d
          return true
        end
        function filterRetrievedDefinitions(definitions)
          assert(KEPT == definitions[2] and KEPT ~= definitions[1])
          assert(tostring(KEPT):find("hostname=häst", 1, true))
          return KEPT
        end
        function handleUnknownMAC()
          return Definition{ip = "192.0.2.5", lease_time = 60, subnet = "s", serial = 1}
        end
        """)
        var response = requestPacket()
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: rich, source: requestPacket()).value!, "\(log.messages)")
        // The definition kept from the finished call still reads, and decodes to the same value.
        var packet = requestPacket()
        #expect(try runtime.filterRetrievedDefinitions([sampleDefinition, rich], &packet, context()).value! == rich)
        #expect(try runtime.handleUnknownMAC(&packet, context()).value!
                == [Definition(ip: IPv4(192, 0, 2, 5), leaseTime: 60, subnet: "s", serial: 1)])
    }

    @Test func definitionsWithoutOptionalFieldsReadAsNil() throws {
        let bare = Definition(ip: IPv4(192, 0, 2, 7), leaseTime: 0, subnet: "", serial: 0)
        let (runtime, log) = try makeRuntime("""
        function loadDHCPPacket(packet, method, mac, d)
          return d.hostname == nil and d.domain_name == nil and d.extra == nil and d.subnet == ""
            and d.subnet_mask == nil and #d.gateways == 0 and d == Definition("192.0.2.7", 0, "", 0)
        end
        """)
        var response = requestPacket()
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: bare, source: requestPacket()).value!, "\(log.messages)")
    }

    @Test func timeLimitStillStopsALoopThatCallsIntoSwift() throws {
        let (runtime, _) = try makeRuntime("""
        LUA_INSTRUCTION_LIMIT = 0
        LUA_TIME_LIMIT = 0.2
        function loadDHCPPacket(packet)
          while true do packet:setOption(51, 1) end
        end
        """)
        var response = requestPacket()
        let started = Date()
        #expect { try runtime.loadDHCPPacket(&response, context(), definition: nil, source: requestPacket()).value! } throws: {
            ($0 as? ScriptError)?.kind == .limit && "\($0)".contains("time limit")
        }
        #expect(Date().timeIntervalSince(started) < 3)
        // The next call gets a fresh budget.
        let (quick, _) = try makeRuntime("LUA_TIME_LIMIT = 0.2\nfunction loadDHCPPacket() return true end")
        #expect(try quick.loadDHCPPacket(&response, context(), definition: nil, source: requestPacket()).value!)
    }

    @Test func statisticsHandlersAreSeenAsTheyComeAndGo() throws {
        let (none, _) = try makeRuntime("")
        #expect(!none.hasStatisticsHandlers)
        let (added, _) = try makeRuntime("callbacks.statsAddHandler(function() end)")
        #expect(added.hasStatisticsHandlers)
        let (removed, _) = try makeRuntime("""
        local function handler() end
        callbacks.statsAddHandler(handler)
        callbacks.statsRemoveHandler(handler)
        """)
        #expect(!removed.hasStatisticsHandlers)
    }
}
