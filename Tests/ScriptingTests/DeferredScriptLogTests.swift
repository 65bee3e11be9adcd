import Scripting
import Testing

@Suite struct DeferredScriptLogTests {
    @Test func recordsWaitForTheLogThenGoStraightThrough() {
        let early = DeferredScriptLog()
        early.log(.info, logger: "conf", "loading")
        early.log(.warning, logger: "dynamism", "odd setting")
        let target = LogRecorder()
        #expect(target.messages.isEmpty)
        early.attach(target)
        #expect(target.messages == ["loading", "odd setting"])
        early.log(.error, logger: "conf", "after start-up")
        #expect(target.messages == ["loading", "odd setting", "after start-up"])
        #expect(target.records.withLock { $0.map(\.1) } == ["conf", "dynamism", "conf"])
        #expect(target.contains("odd setting", level: .warning))
    }
}
