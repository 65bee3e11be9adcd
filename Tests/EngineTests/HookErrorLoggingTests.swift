import Databases
import DHCPWire
@testable import Engine
import Logging
import Testing

/// A failing hook is logged at CRITICAL (so EMAIL_ENABLED sites are mailed), with the script's
/// file:line first, and once per interval when it fails on every packet (docs/SCRIPTING.md, "Hooks").
@Suite struct HookErrorLoggingTests {
    private static let failure = """
        loadDHCPPacket: /etc/staticdhcpd/conf.lua:12: attempt to index a nil value (global 'x')
        stack traceback:
          [C]: in ?
          /etc/staticdhcpd/conf.lua:12: in function 'loadDHCPPacket'
        """

    /// Twenty reserved clients, so repeated requests are not one client's flood.
    private static let clients = (1...20).map { MAC(0x0200_0000_0000 + UInt64($0)) }

    private func engine(_ hooks: ClosureHooks, log: CapturedLog) -> DHCPEngine {
        let entries = Dictionary(uniqueKeysWithValues: Self.clients.map { ($0, [knownDefinition]) })
        let generation = Generation(
            number: 1, configuration: EngineConfiguration(serverIP: serverIP, allowDHCPRelays: true),
            hooks: hooks, database: MemoryDatabase(entries: entries))
        return DHCPEngine(generation: generation, sender: CollectingSender(), logger: log.logger, executor: JobThread())
    }

    private func discover(_ engine: DHCPEngine, from mac: MAC = knownMAC) async {
        await engine.handle(Datagram(bytes: clientPacket(1, mac: mac).encode(), sourceIP: .zero, sourcePort: 68, localPort: 67))
    }

    @Test func aFailingHookIsCriticalWithTheScriptsLineFirst() async {
        let log = CapturedLog()
        let hooks = ClosureHooks()
        hooks.load = { _, _, _ throws(HookError) in throw HookError(Self.failure) }
        let engine = engine(hooks, log: log)
        await discover(engine)
        let records = log.records.withLock { $0.filter { $0.0 == .critical } }
        #expect(records.count == 1)
        #expect(records.first?.1.hasPrefix("/etc/staticdhcpd/conf.lua:12: DISCOVER from 02:00:00:00:00:01 dropped: loadDHCPPacket:") == true,
                "\(records)")
        #expect(log.count(.error, containing: "") == 0)
    }

    @Test func aHookFailingOnEveryPacketIsOneRecordPerInterval() async {
        let log = CapturedLog()
        let hooks = ClosureHooks()
        hooks.load = { _, _, _ throws(HookError) in throw HookError(Self.failure) }
        let engine = engine(hooks, log: log)
        for mac in Self.clients { await discover(engine, from: mac) }
        #expect(log.count(.critical, containing: "attempt to index a nil value") == 1)
        #expect(await engine.counters.hookErrors == 20)
    }

    @Test func aFailingFilterPacketDropsThePacketAndIsLoggedLikeEveryHook() async {
        let log = CapturedLog()
        let hooks = ClosureHooks()
        hooks.filterFailure = "filterPacket: conf.lua:3: filter broke"
        let engine = engine(hooks, log: log)
        for _ in 1...3 { await discover(engine) }
        #expect(hooks.statistics.last?.outcome == .hookError)
        #expect(log.count(.critical, containing: "conf.lua:3: DISCOVER from 02:00:00:00:00:01 dropped: filterPacket: conf.lua:3: filter broke") == 1)
        #expect(await engine.counters.hookErrors == 3)
        #expect(await engine.ignoredMACCount == 0) // an error is not a nil verdict: no blocklist
    }

    @Test(arguments: [
        ("loadDHCPPacket: conf.lua:7: boom", "conf.lua:7"),
        ("handleUnknownMAC: /srv/dhcp/staticDHCPd_extensions/dynamism.lua:140: store unreachable", "/srv/dhcp/staticDHCPd_extensions/dynamism.lua:140"),
        ("filterPacket: [string \"prelude\"]:3: bad argument", nil),
        ("2 definitions for 02:00:00:00:00:01 and no filterRetrievedDefinitions hook to choose one", nil),
        ("error in 'a.lua:x' then conf.lua:9: real", "conf.lua:9"),
    ] as [(String, String?)])
    func theLocationIsTheFirstFileAndLineNamed(_ text: String, _ location: String?) {
        #expect(HookError(text).location == location)
    }

    /// /metrics' hook_duration_seconds_count is the number of hook calls, not of lookups.
    @Test func everyHookCallIsCountedOnce() async {
        let log = CapturedLog()
        let hooks = ClosureHooks()
        hooks.filter = { _, _ in .accept }
        hooks.load = { _, _, _ in true }
        let engine = engine(hooks, log: log)
        for mac in Self.clients.prefix(3) { await discover(engine, from: mac) }
        let counters = await engine.counters
        #expect(counters.hookCalls == 6) // filterPacket and loadDHCPPacket, three times
        #expect(counters.databaseLookups == 3)
    }
}
