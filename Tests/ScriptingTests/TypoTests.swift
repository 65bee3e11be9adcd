import Scripting
import Testing

/// Names that look right but are not (docs/SCRIPTING.md): hook-like global functions warn, unknown
/// webAddMethod options and unknown packet properties raise.
@Suite struct TypoTests {
    @Test func hookLikeGlobalsAreReportedByCheckConfig() throws {
        let file = try writeConfig(baseSettings + """
        function loadDhcpPacket() return true end
        function filterPackets() return true end
        function Init() end
        function systemAddTickHandler() end
        function exit() end
        function handleUnknownMAC() end
        function handleUnknownMac() end

        """)
        let report = ScriptRuntime.checkConfig(configFile: file)
        #expect(report.isValid)
        #expect(report.warnings.contains { $0.contains("loadDhcpPacket: did you mean loadDHCPPacket?") }, "\(report.warnings)")
        #expect(report.warnings.contains { $0.contains("filterPackets: did you mean filterPacket?") })
        #expect(report.warnings.contains { $0.contains("Init: did you mean init?") })
        #expect(report.warnings.contains { $0.contains("systemAddTickHandler: did you mean to call callbacks.systemAddTickHandler(...)") })
        // Not close enough to anything, or the hook it resembles is defined as well.
        #expect(!report.warnings.contains { $0.contains("function exit") })
        #expect(!report.warnings.contains { $0.contains("handleUnknownMac") })
    }

    @Test func aLoadWarnsToo() throws {
        let (_, log) = try makeRuntime("function loadDhcpPacket() return true end\n")
        #expect(log.contains("did you mean loadDHCPPacket?", level: .warning))
    }

    @Test func correctlyNamedHooksDoNotWarn() throws {
        let (_, log) = try makeRuntime("""
        function loadDHCPPacket() return true end
        function filterPacket() return true end
        local function helper() end

        """)
        #expect(!log.contains("did you mean"), "\(log.messages)")
    }

    @Test func unknownWebAddMethodOptionIsAnErrorNamingIt() throws {
        let (_, log) = try makeRuntime("""
        local ok, err = pcall(callbacks.webAddMethod, "/x", function() end, { hiden = false })
        assert(not ok)
        assert(tostring(err):find("unknown option 'hiden'", 1, true), tostring(err))
        assert(tostring(err):find("hidden", 1, true), "lists the known options")
        assert(callbacks.webAddMethod("/y", function() end, { hidden = false, module = "m", name = "n" }))
        logger.info("checked")

        """)
        #expect(log.contains("checked"), "\(log.messages)")
    }

    @Test func unknownPacketPropertyPointsToGetOption() throws {
        let (runtime, log) = try makeRuntime("""
        function filterPacket(packet)
          local ok, err = pcall(function() return packet.yiaddr end)
          assert(not ok and tostring(err):find('packet:getOption("yiaddr")', 1, true), tostring(err))
          assert(not pcall(function() return packet[1] end))
          assert(packet.meta and packet.word_size == 4 and packet.response_ip == nil)
          assert(packet.getOption and packet:getOption("yiaddr") ~= nil)
          return true
        end

        """)
        var packet = requestPacket()
        #expect(try runtime.filterPacket(&packet, context()).value == .accept, "\(log.messages)")
    }
}
