import Engine
import Foundation
import Testing
import Web
@testable import DaemonWeb

@Suite struct ExplainAdapterTests {
    private let nowhere = URL(fileURLWithPath: "/nonexistent/conf.lua")

    @Test func aBadMACIsRefusedBeforeAnyRun() async {
        let source = DaemonExplainSource(configFile: nowhere) { request, _ in
            Issue.record("explain ran")
            return ExplainReport(request: request, trace: DecisionTrace(), log: [])
        }
        let answer = await source.explain(ExplainForm(mac: "02:00:zz"))
        #expect(answer.verdict == .refused)
        #expect(answer.text == "\"02:00:zz\" is not a MAC address")
        #expect(await source.explain(ExplainForm(mac: "")).text == "a MAC address is needed")
    }

    @Test func oneRunAtATime() async throws {
        let slow = "02:00:00:00:00:01"
        let (started, didStart) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let source = DaemonExplainSource(configFile: nowhere) { request, _ in
            if request.mac.description == slow {
                didStart.yield()
                for await _ in released { break }
            }
            return ExplainReport(request: request, trace: DecisionTrace(), log: [])
        }
        let first = Task { await source.explain(ExplainForm(mac: slow)) }
        for await _ in started { break }
        let second = await source.explain(ExplainForm(mac: "02:00:00:00:00:02"))
        #expect(second == ExplainAnswer(verdict: .refused, text: "Another explain is running; try again in a moment."))
        release.yield()
        #expect(await first.value.verdict == .noReply)
        // Once it has finished, the next one runs.
        #expect(await source.explain(ExplainForm(mac: "02:00:00:00:00:02")).verdict == .noReply)
    }

    /// The real run, on a conf.lua that is not there: refused with why.
    @Test func aConfLuaThatDoesNotLoadIsRefused() async {
        let answer = await DaemonExplainSource(configFile: nowhere).explain(ExplainForm(mac: "02:00:00:00:00:01"))
        #expect(answer.verdict == .refused)
        #expect(answer.text.hasPrefix("\(nowhere.path): configuration rejected"))
        #expect(DaemonExplainSource(configFile: nowhere).methods.first == "DISCOVER")
    }
}
