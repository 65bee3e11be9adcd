import DHCPModel
import Logging
import Testing

@Suite struct LogLevelTests {
    @Test func swiftLogsSevenLevelsFoldIntoFive() {
        #expect(Logger.Level.allCases.map { LogLevel($0) } == [.debug, .debug, .info, .info, .warning, .error, .critical])
        #expect(LogLevel.allCases.allSatisfy { LogLevel($0.swiftLogLevel) == $0 })
    }

    @Test func eachSideNamesThemItsOwnWay() {
        #expect(LogLevel.allCases.map(\.name) == ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
        #expect(LogLevel.allCases.map(\.dashboardName) == ["debug", "info", "warn", "error", "critical"])
        #expect(LogLevel.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
    }

    @Test func confLuasSeverityNamesParse() {
        #expect(Severity.parse("warn") == .warning && Severity.parse("WARNING") == .warning)
        #expect(Severity.parse("LOUD") == nil)
    }
}
