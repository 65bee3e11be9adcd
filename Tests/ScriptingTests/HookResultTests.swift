import DHCPWire
import Databases
import Foundation
import Scripting
import Testing

/// Hook results read as the original read them (docs/SCRIPTING.md, "Hooks"): Python's falsy
/// results mean "no definition", and `int()` fields accept numeric strings.
@Suite struct HookResultTests {
    actor SerialExecutor: ScriptExecutor {
        func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T { try body() }
    }

    @Test(arguments: ["nil", "false", "{}"])
    func falsyUnknownMACResultsMeanUnknown(result: String) throws {
        let (runtime, log) = try makeRuntime("function handleUnknownMAC() return \(result) end\n")
        var packet = requestPacket()
        #expect(try runtime.handleUnknownMAC(&packet, context()).value == [], "\(log.messages)")
    }

    @Test func trueIsStillAnError() throws {
        let (runtime, _) = try makeRuntime("function handleUnknownMAC() return true end\n")
        var packet = requestPacket()
        #expect(throws: ScriptError.self) { try runtime.handleUnknownMAC(&packet, context()) }
    }

    @Test(arguments: ["nil", "false", "{}"])
    func falsyLuaDatabaseResultsMeanUnknown(result: String) async throws {
        let (runtime, _) = try makeRuntime("", settings: """
        DHCP_SERVER_IP = "192.0.2.1"
        DATABASE_ENGINE = function() return { lookupMAC = function(mac) return \(result) end } end

        """)
        let database = try runtime.makeLuaDatabase(executor: SerialExecutor())
        #expect(try await database.lookupMAC(testMAC) == [])
    }

    @Test func filterRetrievedDefinitionsAcceptsWhatHandleUnknownMACAccepts() throws {
        let (runtime, log) = try makeRuntime("""
        function filterRetrievedDefinitions(definitions, packet, method)
          if method == "fields" then return {ip = "192.0.2.50", lease_time = "600", subnet = "s", serial = 2} end
          if method == "list" then return {definitions[2]} end
          if method == "false" then return false end
          if method == "empty" then return {} end
          if method == "two" then return definitions end
          return definitions[1]
        end
        """)
        let second = Definition(ip: IPv4(192, 0, 2, 20), leaseTime: 60, subnet: "b", serial: 1)
        func choose(_ method: String) throws(ScriptError) -> Definition? {
            var packet = requestPacket()
            return try runtime.filterRetrievedDefinitions([sampleDefinition, second], &packet, context(method)).value!
        }
        #expect(try choose("definition") == sampleDefinition, "\(log.messages)")
        #expect(try choose("fields") == Definition(ip: IPv4(192, 0, 2, 50), leaseTime: 600, subnet: "s", serial: 2))
        #expect(try choose("list") == second)
        #expect(try choose("false") == nil)
        #expect(try choose("empty") == nil)
        #expect(throws: ScriptError.self) { try choose("two") }
    }

    @Test func numericStringsAreAcceptedWhereIntWas() throws {
        let (runtime, log) = try makeRuntime("""
        function handleUnknownMAC()
          local a = Definition{ip = "192.0.2.5", lease_time = "600", subnet = "s", serial = " -3 "}
          local b = Definition("192.0.2.6", "1_000", "s", 7.9)
          for _, bad in ipairs({"600.0", "0x10", "", "6 00"}) do
            assert(not pcall(Definition, {ip = "192.0.2.5", lease_time = bad, subnet = "s", serial = 0}), bad)
          end
          return {a, b}
        end
        """)
        var packet = requestPacket()
        let found = try runtime.handleUnknownMAC(&packet, context()).value
        #expect(found?.map(\.leaseTime) == [600, 1000], "\(log.messages)")
        #expect(found?.map(\.serial) == [-3, 7])
    }

    @Test func integerKeysInExtraStayIntegers() throws {
        let (runtime, log) = try makeRuntime("""
        function handleUnknownMAC()
          return Definition{ip = "192.0.2.5", lease_time = 60, subnet = "s", serial = 0,
                            extra = {"first", "second", vlan = 10, [42] = "answer", ports = {[8080] = "http"}}}
        end
        function loadDHCPPacket(packet, method, mac, d)
          local e = d.extra
          return e[1] == "first" and e[2] == "second" and e.vlan == 10 and e[42] == "answer"
            and e["42"] == nil and e.ports[8080] == "http"
        end
        """)
        var packet = requestPacket()
        let definition = try #require(try runtime.handleUnknownMAC(&packet, context()).value?.first)
        var response = requestPacket()
        #expect(try runtime.loadDHCPPacket(&response, context(), definition: definition, source: packet).value == true,
                "\(log.messages)")
    }
}
