import DHCPWire
import Foundation
import Scripting
import Testing

/// Bad scripts give clear errors and the process stays up.
@Suite struct SafetyTests {
    @Test func syntaxErrorNamesFileAndLine() throws {
        #expect {
            _ = try makeRuntime("function filterPacket(\n  return true\nend\n")
        } throws: { error in
            guard let error = error as? ScriptError else { return false }
            return error.kind == .syntax && error.description.contains("conf.lua:5")
        }
    }

    @Test func topLevelRuntimeErrorIsReported() throws {
        #expect {
            _ = try makeRuntime("local x = nil\nlocal y = x.field\n")
        } throws: { error in
            (error as? ScriptError)?.kind == .runtime && "\(error)".contains("attempt to index")
        }
    }

    @Test func runtimeErrorInEveryHook() throws {
        let (runtime, log) = try makeRuntime("""
        function init() error("init broke") end
        function filterPacket() error("filter broke") end
        function handleUnknownMAC() error("unknown broke") end
        function filterRetrievedDefinitions() error("choose broke") end
        function loadDHCPPacket(packet) local t = nil; return t.x end
        """)
        var packet = requestPacket()
        #expect(throws: ScriptError.self) { try runtime.callInit() }
        // A failing filterPacket throws, like every hook; the engine logs it (EngineTests).
        #expect { try runtime.filterPacket(&packet, context()).value! } throws: {
            "\($0)".contains("filter broke") && "\($0)".contains("stack traceback") && "\($0)".contains("conf.lua:5")
        }
        _ = log
        #expect { try runtime.handleUnknownMAC(&packet, context()).value! } throws: { "\($0)".contains("unknown broke") }
        #expect { try runtime.filterRetrievedDefinitions([sampleDefinition, sampleDefinition], &packet, context()).value! } throws: {
            "\($0)".contains("choose broke")
        }
        #expect { try runtime.loadDHCPPacket(&packet, context(), definition: sampleDefinition, source: requestPacket()).value! } throws: {
            "\($0)".contains("attempt to index") && "\($0)".contains("conf.lua:8")
        }
        // Still serving afterwards.
        #expect { try runtime.filterPacket(&packet, context()).value! } throws: { "\($0)".contains("filter broke") }
    }

    @Test func badHookResultIsAnError() throws {
        let (runtime, _) = try makeRuntime("function handleUnknownMAC() return 42 end")
        var packet = requestPacket()
        #expect { try runtime.handleUnknownMAC(&packet, context()).value! } throws: { ($0 as? ScriptError)?.kind == .badResult }
    }

    @Test func endlessLoopHitsTheInstructionBudget() throws {
        let (runtime, log) = try makeRuntime("function filterPacket() while true do end end")
        var packet = requestPacket()
        let started = Date()
        #expect { try runtime.filterPacket(&packet, context()).value! } throws: { "\($0)".contains("instruction budget") }
        #expect(Date().timeIntervalSince(started) < 5)
        _ = log
    }

    @Test func endlessLoopHitsTheTimeLimit() throws {
        let (runtime, log) = try makeRuntime("""
        LUA_INSTRUCTION_LIMIT = 0
        LUA_TIME_LIMIT = 0.2
        function handleUnknownMAC() while true do end end
        """)
        var packet = requestPacket()
        let started = Date()
        #expect { try runtime.handleUnknownMAC(&packet, context()).value! } throws: { ($0 as? ScriptError)?.kind == .limit }
        #expect(Date().timeIntervalSince(started) < 3)
        _ = log
    }

    @Test func endlessLoopCannotHideBehindPcall() throws {
        let (runtime, _) = try makeRuntime("""
        function filterPacket()
          while true do pcall(function() while true do end end) end
        end
        """)
        var packet = requestPacket()
        #expect { try runtime.filterPacket(&packet, context()).value! } throws: { ($0 as? ScriptError)?.kind == .limit }
    }

    @Test func memoryBombIsCapped() throws {
        let (runtime, _) = try makeRuntime("""
        LUA_MEMORY_LIMIT = 16 * 1024 * 1024
        LUA_INSTRUCTION_LIMIT = 0
        function handleUnknownMAC()
          local hoard = {}
          while true do hoard[#hoard + 1] = string.rep("x", 4096) .. #hoard end
        end
        function filterPacket() return true end
        """)
        var packet = requestPacket()
        #expect { try runtime.handleUnknownMAC(&packet, context()).value! } throws: { ($0 as? ScriptError)?.kind == .memory }
        #expect(runtime.memoryPeak <= 17 * 1024 * 1024)
        #expect(try runtime.filterPacket(&packet, context()).value! == .accept) // the state still works
        #expect(runtime.memoryInUse < 4 * 1024 * 1024) // the hoard was collected
    }

    @Test func badArgumentsInALoopLeakNothing() throws {
        let (runtime, _) = try makeRuntime("""
        LUA_INSTRUCTION_LIMIT = 0
        LUA_TIME_LIMIT = 0
        function filterPacket(packet)
          local failures = 0
          for i = 1, 100000 do
            if not pcall(ipToList, {1, 2}) then failures = failures + 1 end
            if not pcall(packet.setOption, packet, "no_such_option", i) then failures = failures + 1 end
            if not pcall(Definition, { ip = "nonsense" }) then failures = failures + 1 end
            if not pcall(rfc3442_121, { { {"192.0.2.0", 99}, "192.0.2.1" } }) then failures = failures + 1 end
          end
          return failures == 400000
        end
        """)
        var packet = requestPacket()
        #expect(try runtime.filterPacket(&packet, context()).value! == .accept) // warm-up
        let before = residentBytes()
        #expect(try runtime.filterPacket(&packet, context()).value! == .accept)
        let after = residentBytes()
        #expect(after - before < 2 * 1024 * 1024, "RSS grew by \(after - before) bytes")
    }

    @Test func packetOutsideItsHookIsRefused() throws {
        let (runtime, log) = try makeRuntime("""
        function filterPacket(packet) _KEPT = packet; return true end
        callbacks.systemAddTickHandler(function() _KEPT:getOption(53) end)
        """)
        var packet = requestPacket()
        _ = try runtime.filterPacket(&packet, context()).value!
        runtime.runTickHandlers() // outside any hook the box points at no packet
        #expect(log.contains("no longer available", level: .critical))
    }

    @Test func scriptsCannotReachFinalisers() throws {
        let (runtime, _) = try makeRuntime("""
        function filterPacket(packet)
          return getmetatable(packet) == false and getmetatable(Definition("192.0.2.1", 1, "s", 0)) == false
        end
        """)
        var packet = requestPacket()
        #expect(try runtime.filterPacket(&packet, context()).value! == .accept)
    }
}
