import Databases
import DHCPWire
@testable import Engine
import Testing

/// `staticdhcpd explain`'s view of the chain: the trace the engine writes as it decides, and the
/// report made of it.
@Suite struct DecisionTraceTests {
    /// Runs `request` through `harness`'s engine with a trace, as explain does.
    private func explain(_ request: ExplainRequest, on harness: Harness) async -> (DecisionTrace, ExplainReport) {
        let trace = DecisionTrace()
        await harness.engine.handle(request.datagram(for: harness.engine.generation.configuration), trace: trace)
        return (trace, ExplainReport(request: request, trace: trace, log: []))
    }

    /// The last decision of the step `name` (a lookup that waits has two: parked, then answered).
    private func step(_ report: ExplainReport, _ name: String) -> String? {
        report.steps.last { $0.name == name }?.decision
    }

    @Test func aReservedMACGetsAnOfferWhoseOptionsAreListedByName() async throws {
        let harness = Harness()
        let (trace, report) = await explain(try ExplainRequest(mac: knownMAC), on: harness)
        #expect(trace.outcome == .replied)
        #expect(report.exitStatus == 0)
        #expect(report.dropped == nil)
        #expect(step(report, "source policy") == "local request accepted")
        #expect(step(report, "database")?.contains("1 definition: 192.0.2.10") == true)
        let reply = try #require(report.reply)
        #expect(reply.type == "OFFER")
        #expect(reply.yiaddr == "192.0.2.10")
        // The test sender describes the route as the UDP source it answers.
        #expect(reply.destination == "0.0.0.0:68")
        let options = Dictionary(uniqueKeysWithValues: reply.options.map { ($0.name, $0.value) })
        #expect(options["subnet_mask"] == "255.255.255.0")
        #expect(options["router"] == "192.0.2.1")
        #expect(options["domain_name_servers"] == "192.0.2.53")
        #expect(options["server_identifier"] == "192.0.2.1")
        #expect(report.text.contains("1 subnet_mask: 255.255.255.0"))
        // What the engine sent is what the trace holds: the sender saw the same reply.
        #expect(harness.sender.replies.count == 1)
    }

    @Test func anUnknownMACWithoutHandleUnknownMACIsDroppedWithTheReason() async throws {
        let harness = Harness()
        let (trace, report) = await explain(try ExplainRequest(mac: unknownMAC), on: harness)
        #expect(trace.outcome == .blocklisted)
        #expect(report.reply == nil)
        #expect(report.exitStatus == 1)
        #expect(step(report, "database")?.contains("unknown MAC") == true)
        #expect(step(report, "handleUnknownMAC") == "not defined in conf.lua")
        let reason = try #require(report.dropped)
        #expect(reason.contains("unknown MAC and server is not authoritative"))
        #expect(report.text.hasSuffix("=> no reply: \(reason)"))
    }

    @Test func anUnknownMACThatHandleUnknownMACDefinesGetsAnOffer() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [knownDefinition] }
        let harness = Harness(hooks: hooks)
        let (_, report) = await explain(try ExplainRequest(mac: unknownMAC), on: harness)
        #expect(step(report, "handleUnknownMAC")?.contains("1 definition: 192.0.2.10") == true)
        #expect(report.reply?.type == "OFFER")
        #expect(report.reply?.yiaddr == "192.0.2.10")
        #expect(report.exitStatus == 0)
    }

    @Test func aHookThatFailsDropsTheRequestWithItsError() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ throws(HookError) in throw HookError("handleUnknownMAC: conf.lua:12: attempt to index a nil value") }
        let harness = Harness(hooks: hooks)
        let (trace, report) = await explain(try ExplainRequest(mac: unknownMAC), on: harness)
        #expect(trace.outcome == .hookError)
        #expect(step(report, "handleUnknownMAC") == "raised an error")
        #expect(report.reply == nil)
        #expect(report.dropped == "a hook failed: handleUnknownMAC: conf.lua:12: attempt to index a nil value")
    }

    @Test func hooksThatWaitOnTheStoreAreTracedOnceEach() async throws {
        let hooks = ClosureHooks()
        hooks.unknown = { _ in [knownDefinition] }
        hooks.load = { _, _, _ in true }
        // Both hooks suspend once, as Lua hooks waiting on a shared store do; the engine then runs
        // the decide stage again from its start.
        hooks.suspendFor = .milliseconds(1)
        let harness = Harness(hooks: hooks)
        let (_, report) = await explain(try ExplainRequest(mac: unknownMAC), on: harness)
        #expect(hooks.suspensions == 2)
        #expect(report.reply?.type == "OFFER")
        #expect(report.steps.filter { $0.name == "handleUnknownMAC" }.count == 1)
        #expect(report.steps.filter { $0.name == "loadDHCPPacket" }.map(\.decision) == ["true: send the reply"])
    }

    @Test func filterPacketReturningNilIsABlocklistDecision() async throws {
        let hooks = ClosureHooks()
        hooks.filter = { _, _ in .blocklist }
        let harness = Harness(hooks: hooks)
        let (trace, report) = await explain(try ExplainRequest(mac: knownMAC), on: harness)
        #expect(step(report, "filterPacket") == "nil: drop and blocklist")
        #expect(trace.outcome == .blocklisted)
        #expect(report.dropped?.contains("filterPacket() returned nil") == true)
        #expect(report.exitStatus == 1)
        // No database step: the request never got that far.
        #expect(step(report, "database") == nil)
    }

    @Test func aRelayNotAllowedIsASourcePolicyDrop() async throws {
        let harness = Harness(configuration: EngineConfiguration(serverIP: serverIP, allowDHCPRelays: false))
        let (_, report) = await explain(try ExplainRequest(mac: knownMAC, relay: IPv4(198, 51, 100, 2)), on: harness)
        #expect(report.dropped?.contains("relay support is not enabled") == true)
    }

    @Test func eachMethodIsBuiltSoTheEngineClassifiesItAsThatMethod() throws {
        let configuration = EngineConfiguration(serverIP: serverIP)
        for method in ExplainRequest.methods {
            for relay in [nil, IPv4(198, 51, 100, 2)] {
                let request = try ExplainRequest(mac: knownMAC, method: method, relay: relay, requestedIP: IPv4(192, 0, 2, 10))
                let datagram = request.datagram(for: configuration)
                let packet = try DHCPPacket(decoding: datagram.bytes)
                #expect(packet.requestMethod(sourceIP: datagram.sourceIP) == method, "\(method.name) via \(relay?.description ?? "no relay")")
            }
        }
    }

    @Test func theFormsTextIsParsedOrRefusedWithAReason() throws {
        let request = try ExplainRequest(parsing: " 02:00:00:00:00:01 ", method: "request:renew", relay: "", requestedIP: "192.0.2.10")
        #expect(request.method == .requestRenew)
        #expect(request.relay == nil)
        #expect(throws: ExplainError.self) { try ExplainRequest(parsing: "not-a-mac", method: nil, relay: nil, requestedIP: nil) }
        #expect(throws: ExplainError.self) { try ExplainRequest(parsing: "02:00:00:00:00:01", method: "OFFER", relay: nil, requestedIP: nil) }
        // RENEW without the client's address cannot be built.
        #expect(throws: ExplainError.self) { try ExplainRequest(parsing: "02:00:00:00:00:01", method: "REQUEST:RENEW", relay: nil, requestedIP: nil) }
    }
}
