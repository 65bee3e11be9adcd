import Scripting
import Testing

/// `logger.*` and `writeLog` never raise into the hook that logs (docs/SCRIPTING.md, "Logging").
@Suite struct LoggingNeverRaisesTests {
    /// Runs `body` as filterPacket (which must return true) and gives the records logged.
    func run(_ body: String) throws -> LogRecorder {
        let (runtime, log) = try makeRuntime("""
        function filterPacket(packet)
        \(body)
          return true
        end
        """)
        var packet = requestPacket()
        #expect(try runtime.filterPacket(&packet, context()).value == .accept, "\(log.messages)")
        return log
    }

    @Test func missingArgumentStillLogsWithANoteNamingTheLine() throws {
        let log = try run("  logger.info(\"lease for %s until %d\", \"aa\")")
        let line = try #require(log.messages.first { $0.hasPrefix("lease for %s until %d aa") })
        // baseSettings takes three lines and the function line the fourth: the call is on line 5.
        #expect(line.contains("the log call at conf.lua:5 could not format its arguments"), "\(line)")
        #expect(!line.contains("prelude"))
    }

    @Test func wrongTypeAndBadFormatAreLoggedWithTheirArguments() throws {
        let log = try run("""
          logger.warning("count %d", "many")
          writeLog("100% %q sure", {}, 3)
          logger.error(nil, 1)
        """)
        #expect(log.contains("count %d many [the log call at conf.lua:5", level: .warning), "\(log.messages)")
        #expect(log.messages.contains { $0.hasPrefix("100% %q sure table: ") && $0.contains(" 3 [the log call at conf.lua:6") })
        #expect(log.contains("nil 1 [the log call at conf.lua:7", level: .error))
    }

    @Test func surplusArgumentsAreNotLost() throws {
        let log = try run("  logger.info(\"plain text\", \"extra\", 2)")
        #expect(log.contains("plain text extra 2 [the log call at conf.lua:5 could not format its arguments: 2 arguments for 0 conversions]"),
                "\(log.messages)")
    }

    @Test func goodCallsAreUnchanged() throws {
        let log = try run("""
          logger.info("%s has %d%% left", "pool", 5)
          logger.debug({})
        """)
        #expect(log.messages.contains("pool has 5% left"))
        #expect(log.messages.contains { $0.hasPrefix("table: ") && !$0.contains("[") })
    }

    @Test func colonFormWorksLikeDotForm() throws {
        let log = try run("""
          logger:info("colon %s", "works")
          local named = logging.getLogger("lab")
          named:warning("named colon")
          local other = logger:getLogger("other")
          other.error("from other")
        """)
        #expect(log.records.withLock { $0.contains { $0 == (.info, "conf", "colon works") } })
        #expect(log.records.withLock { $0.contains { $0 == (.warning, "lab", "named colon") } })
        #expect(log.records.withLock { $0.contains { $0 == (.error, "other", "from other") } })
    }

    @Test func aFailingToStringDoesNotRaise() throws {
        let log = try run("""
          local odd = setmetatable({}, { __tostring = function() error("no") end })
          logger.info(odd)
          logger.info("value %s", odd)
        """)
        #expect(log.messages.contains("<table>"), "\(log.messages)")
        #expect(log.messages.contains { $0.hasPrefix("value %s <table> [the log call at conf.lua:7") })
    }
}
