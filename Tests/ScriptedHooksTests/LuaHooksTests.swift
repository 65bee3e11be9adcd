import DaemonLogging
import Databases
import DHCPWire
import Engine
import Foundation
import Scripting
import ScriptedHooks
import Synchronization
import Testing

/// A real `ScriptRuntime`, loaded from a small conf.lua, driving an engine through `LuaHooks`.
@Suite struct LuaHooksTests {
    static let serverIP = IPv4(192, 0, 2, 1)
    static let known = MAC(0x0200_0000_0001)
    static let definition = Definition(
        ip: IPv4(192, 0, 2, 10), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 0,
        hostname: "alpha", gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0))

    /// Script log records, kept for the assertions.
    final class Recorder: ScriptLog {
        let lines = Mutex<[(LogLevel, String)]>([])
        func log(_ level: LogLevel, logger: String, _ message: String) {
            lines.withLock { $0.append((level, message)) }
        }
        func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.1.contains(text) } } }
    }

    /// Answers `known` with `definition`, everyone else as unknown.
    struct OneClient: Database {
        var engineName: String { "OneClient" }
        func lookupMAC(_ mac: MAC) async throws -> [Definition] { mac == LuaHooksTests.known ? [LuaHooksTests.definition] : [] }
        func reinitialise() async throws {}
    }

    final class Sender: ReplySender {
        let sent = Mutex<[OutgoingReply]>([])
        func send(_ reply: OutgoingReply) throws -> any CustomStringConvertible & Sendable {
            sent.withLock { $0.append(reply) }
            return "sent"
        }
        var last: OutgoingReply? { sent.withLock { $0.last } }
        var count: Int { sent.withLock { $0.count } }
    }

    struct Rig {
        let engine: DHCPEngine
        let sender: Sender
        let log: Recorder
        let observed: Observed
        let tap: LogTap

        func discover(from mac: MAC = LuaHooksTests.known) async {
            var packet = DHCPPacket()
            packet.op = 1
            packet.htype = 1
            packet.hlen = 6
            packet.xid = 0x1234_5678
            packet.setHardwareAddress(mac)
            packet.setOption(53, bytes: [1])
            packet.setOption(55, bytes: [1, 3, 6, 51, 54, 66])
            await engine.handle(Datagram(bytes: packet.encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
        }
    }

    final class Observed: Sendable {
        let records = Mutex<[Statistics]>([])
    }

    func rig(_ script: String) throws -> Rig {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("scripted-hooks-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("conf.lua")
        try ("DHCP_SERVER_IP = \"192.0.2.1\"\n" + script).write(to: file, atomically: true, encoding: .utf8)
        let log = Recorder()
        let runtime = try ScriptRuntime(configFile: file, log: log)
        let observed = Observed()
        let tap = LogTap()
        let hooks = LuaHooks(runtime: runtime, observeStatistics: { record in observed.records.withLock { $0.append(record) } },
                             logTap: tap)
        let sender = Sender()
        let engine = DHCPEngine(
            generation: Generation(number: 1, configuration: EngineConfiguration(serverIP: Self.serverIP),
                                   hooks: hooks, database: OneClient()),
            sender: sender, executor: JobThread())
        return Rig(engine: engine, sender: sender, log: log, observed: observed, tap: tap)
    }

    @Test func aFilterPacketReturningNilBlocklistsTheClient() async throws {
        let rig = try rig("""
            function filterPacket(packet, method, mac) return nil end
            """)
        await rig.discover()
        await rig.discover()
        #expect(rig.sender.count == 0)
        let counts = await rig.engine.counters.packets["DISCOVER"] ?? [:]
        #expect(counts[.filtered, default: 0] + counts[.blocklisted, default: 0] == 2, "\(counts)")
        #expect(counts[.blocklisted, default: 0] >= 1, "\(counts)")
    }

    @Test func anOptionSetByLoadDHCPPacketReachesTheReply() async throws {
        let rig = try rig("""
            function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
              packet:setOption(66, "tftp.example")
              return true
            end
            """)
        await rig.discover()
        let reply = try #require(rig.sender.last)
        let packet = try DHCPPacket(decoding: reply.packet.encode())
        #expect(packet.option(66) == Array("tftp.example".utf8))
        #expect(packet.yiaddr == Self.definition.ip)
    }

    @Test func aLoadDHCPPacketReturningFalseDropsTheReply() async throws {
        let rig = try rig("""
            function loadDHCPPacket() return false end
            """)
        await rig.discover()
        #expect(rig.sender.count == 0)
    }

    @Test func handleUnknownMACAnswersForAClientTheDatabaseDoesNotKnow() async throws {
        let rig = try rig("""
            function handleUnknownMAC(packet, method, mac)
              return Definition{ip = "192.0.2.77", lease_time = 600, subnet = "192.0.2.0/24", serial = 0}
            end
            """)
        await rig.discover(from: MAC(0x0200_0000_0099))
        let reply = try #require(rig.sender.last, "\(rig.log.lines.withLock { $0 })")
        #expect(reply.packet.yiaddr == IPv4(192, 0, 2, 77))
    }

    @Test func statisticsReachTheScriptsHandlersAndTheObserver() async throws {
        let rig = try rig("""
            callbacks.statsAddHandler(function(s)
              logger.info("stats " .. s.method .. " " .. s.mac .. " " .. tostring(s.processed))
            end)
            """)
        await rig.discover()
        #expect(rig.sender.count == 1)
        #expect(rig.log.contains("stats DISCOVER 02:00:00:00:00:01 true"), "\(rig.log.lines.withLock { $0 })")
        let records = rig.observed.records.withLock { $0 }
        #expect(records.count == 1)
        #expect(records.first?.method == "DISCOVER" && records.first?.mac == Self.known)
    }

    @Test func aHookThatRaisesIsTheEnginesHookError() async throws {
        let rig = try rig("""
            function loadDHCPPacket() error("broken on purpose") end
            """)
        await rig.discover()
        #expect(rig.sender.count == 0)
        #expect(await rig.engine.counters.hookErrors == 1)
    }

    @Test func aTickHandsTheTappedRecordsToTheScriptsLogHandlers() async throws {
        let rig = try rig("""
            callbacks.logAddHandler(function(r) logger.info("seen " .. r.level_name .. " " .. r.message) end, "WARNING")
            """)
        // The first tick tells the tap the level the handlers want; before it nothing is collected.
        rig.tap.offer(LogRecord(time: Date(), level: .error, logger: "main", message: "too early"))
        await rig.engine.tick()
        rig.tap.offer(LogRecord(time: Date(), level: .info, logger: "main", message: "too low"))
        rig.tap.offer(LogRecord(time: Date(), level: .warning, logger: "main", message: "wanted"))
        await rig.engine.tick()
        #expect(rig.log.contains("seen WARNING wanted"), "\(rig.log.lines.withLock { $0 })")
        #expect(!rig.log.contains("too early") && !rig.log.contains("too low"))
    }
}
