import DHCPWire
import Databases
import Scripting
import Testing

/// The guide's examples, translated to Lua, run through the real bridge.
@Suite struct GuideExampleTests {
    @Test func filterPacketDropsAcceptsAndBlocklists() throws {
        let (runtime, _) = try makeRuntime("""
        function filterPacket(packet, method, mac, client_ip, relay_ip, port)
          if mac == "aa:bb:cc:dd:ee:ff" then return false end
          if mac == "00:00:00:00:00:01" then return nil end
          return client_ip == "192.0.2.10" and relay_ip == nil and port == 67 and method == "REQUEST:SELECTING"
        end
        """)
        #expect(runtime.hooks.filterPacket)
        var packet = requestPacket()
        #expect(try runtime.filterPacket(&packet, context()).value! == .drop)
        #expect(try runtime.filterPacket(&packet, context(mac: MAC(1))).value! == .blocklist)
        #expect(try runtime.filterPacket(&packet, context(mac: MAC(2))).value! == .accept)
    }

    @Test func filterPacketLossyNetworkExample() throws {
        let (runtime, _) = try makeRuntime("""
        function filterPacket(packet, method, mac, client_ip, relay_ip, port)
          return math.random() > 0.2
        end
        """)
        var packet = requestPacket()
        var dropped = 0
        for _ in 0..<1000 where try runtime.filterPacket(&packet, context()).value! == .drop { dropped += 1 }
        #expect(dropped > 100 && dropped < 300)
    }

    @Test func handleUnknownMACReturnsADefinition() throws {
        let (runtime, _) = try makeRuntime("""
        function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
          if mac == "aa:bb:cc:dd:ee:ff" then
            return Definition{
              ip = "192.0.2.100", lease_time = 600,
              subnet = "192.0.2.0/24", serial = 0,
              hostname = "guestbox",
              subnet_mask = "255.255.255.0",
              broadcast_address = "192.0.2.255",
              domain_name = "guestbox.example.org.",
              domain_name_servers = {"192.0.2.5", "192.0.2.6", "192.0.2.7", "192.0.2.8"},
              ntp_servers = {"192.0.2.8", "192.0.2.9"},
              extra = { rack = "b2", slots = {1, 2} },
            }
          end
          return nil
        end
        """)
        var packet = requestPacket()
        let found = try runtime.handleUnknownMAC(&packet, context()).value!
        #expect(found.count == 1)
        let definition = try #require(found.first)
        #expect(definition.ip == IPv4(192, 0, 2, 100))
        #expect(definition.leaseTime == 600)
        #expect(definition.hostname == "guestbox")
        #expect(definition.subnetMask == IPv4(255, 255, 255, 0))
        #expect(definition.domainNameServers.count == 3) // truncated to three
        #expect(definition.ntpServers == [IPv4(192, 0, 2, 8), IPv4(192, 0, 2, 9)])
        #expect(definition.extra?["rack"] == .string("b2"))
        #expect(definition.extra?["slots"] == .list([.integer(1), .integer(2)]))
        #expect(try runtime.handleUnknownMAC(&packet, context(mac: MAC(5))).value!.isEmpty)
    }

    @Test func loadDHCPPacketSetsRenewalAndNaks() throws {
        let (runtime, _) = try makeRuntime("""
        function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
          if ipToList(definition.ip)[4] % 3 == 0 then -- the fourth octet is a multiple of 3
            packet:setOption("renewal_time_value", 60)
          elseif method:sub(1, 8) == "REQUEST:" and _NAK_CHANCE > math.random() then
            packet:transformToDHCPNakPacket()
          elseif _DROP then
            return false
          end
          return true
        end
        _NAK_CHANCE = 2
        """)
        var response = requestPacket()
        response.transformToAck()
        let source = requestPacket()
        // .99 ends in 99, a multiple of 3: T1 becomes 60 s.
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: sampleDefinition, source: source).value!)
        #expect(response.option(58) == [0, 0, 0, 60])
        #expect(response.isDHCPAckPacket)
        // .100 is not: a REQUEST becomes a NAK.
        var other = sampleDefinition
        other.ip = IPv4(192, 0, 2, 100)
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: other, source: source).value!)
        #expect(response.isDHCPNakPacket)
    }

    @Test func initRegistersATickHandler() throws {
        let (runtime, log) = try makeRuntime("""
        local function _tick_logger()
          logger.debug("Ticked!")
        end
        function init()
          callbacks.systemAddTickHandler(_tick_logger)
          callbacks.systemAddTickHandler(_tick_logger) -- refused: already registered
        end
        """)
        runtime.runTickHandlers()
        #expect(!log.contains("Ticked!"))
        try runtime.callInit()
        #expect(log.contains("already registered", level: .error))
        runtime.runTickHandlers()
        runtime.runTickHandlers()
        #expect(log.messages.filter { $0 == "Ticked!" }.count == 2)
    }

    @Test func handlersModuleIsRequiredFromExtensions() throws {
        let handlers = """
        local M = {}
        function M.handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
          return Definition("192.0.2.50", 300, "lab", 1)
        end
        return M
        """
        let (runtime, _) = try makeRuntime("""
        local _handlers = require "_handlers"
        handleUnknownMAC = _handlers.handleUnknownMAC
        """, extensions: ["_handlers": handlers])
        var packet = requestPacket()
        #expect(try runtime.handleUnknownMAC(&packet, context()).value!.first?.serial == 1)
    }

    @Test func filterRetrievedDefinitionsChoosesByRelay() throws {
        let (runtime, _) = try makeRuntime("""
        function filterRetrievedDefinitions(definitions, packet, method, mac, client_ip, relay_ip, port)
          for _, definition in ipairs(definitions) do
            if definition.subnet == "second" then return definition end
          end
        end
        """)
        var packet = requestPacket()
        var second = sampleDefinition
        second.subnet = "second"
        #expect(try runtime.filterRetrievedDefinitions([sampleDefinition, second], &packet, context()).value! == second)
        #expect(try runtime.filterRetrievedDefinitions([sampleDefinition], &packet, context()).value! == nil)
    }
}
