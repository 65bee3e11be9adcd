import DHCPWire
import Databases
import Scripting
import Testing

/// `definition:copy{...}` and `pairs(definition)` (docs/SCRIPTING.md, "Definition").
@Suite struct DefinitionCopyTests {
    let rich = Definition(
        ip: IPv4(192, 0, 2, 99), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 4, hostname: "box",
        gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0), domainName: "example.org",
        domainNameServers: [IPv4(192, 0, 2, 53)], extra: ["rack": .string("b7")])

    /// Runs `body` as loadDHCPPacket with `rich` as its definition; the hook's result must be true.
    func check(_ body: String) throws {
        let (runtime, log) = try makeRuntime("function loadDHCPPacket(packet, method, mac, d)\n\(body)\nend\n")
        var response = requestPacket()
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: rich, source: requestPacket()).value == true,
                "\(log.messages)")
    }

    @Test func copyReplacesTheNamedFieldsOnly() throws {
        try check("""
          local c = d:copy{ lease_time = 600, hostname = "renamed" }
          assert(c.lease_time == 600 and c.hostname == "renamed")
          assert(c.ip == d.ip and c.subnet == d.subnet and c.serial == 4 and c.domain_name == "example.org")
          assert(c.gateways[1] == "192.0.2.1" and c.domain_name_servers[1] == "192.0.2.53" and c.extra.rack == "b7")
          assert(d.lease_time == 3600 and d.hostname == "box", "the original is unchanged")
          assert(d:copy() == d and c ~= d)
          return true
        """)
    }

    @Test func falseRemovesAnOptionalField() throws {
        try check("""
          local c = d:copy{ hostname = false, gateways = false }
          return c.hostname == nil and #c.gateways == 0 and c.ip == "192.0.2.99"
        """)
    }

    @Test func copyChecksAsDefinitionDoes() throws {
        try check("""
          local ok, err = pcall(d.copy, d, { leese_time = 600 })
          assert(not ok and tostring(err):find("unknown field", 1, true), tostring(err))
          ok, err = pcall(d.copy, d, { ip = "not an address" })
          assert(not ok, "a bad address is refused")
          ok, err = pcall(d.copy, d, { lease_time = false })
          assert(not ok and tostring(err):find("lease_time is required", 1, true), tostring(err))
          ok, err = pcall(d.copy, d, 600)
          assert(not ok and tostring(err):find("table of fields", 1, true), tostring(err))
          return d:copy{ lease_time = "60" }.lease_time == 60
        """)
    }

    @Test func pairsListsTheFieldsThatAreSet() throws {
        try check("""
          local seen = {}
          for key, value in pairs(d) do seen[key] = value end
          assert(seen.ip == "192.0.2.99" and seen.lease_time == 3600 and seen.hostname == "box")
          assert(seen.extra.rack == "b7" and seen.gateways[1] == "192.0.2.1")
          assert(seen.broadcast_address == nil and seen.ntp_servers ~= nil)
          local count = 0
          for _ in pairs(seen) do count = count + 1 end
          -- ip, lease_time, subnet, serial, hostname, gateways, subnet_mask, domain_name,
          -- domain_name_servers, ntp_servers (empty list), extra
          return count == 11
        """)
    }
}
