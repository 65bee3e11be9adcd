import Foundation
import Logging
import Testing
@testable import DaemonLogging

/// Daily rotation: the record's own time is the clock, so tests pass times on chosen days.
struct RotationTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Noon on 2026-03-`day`, local time.
    func noon(_ day: Int) -> Date {
        Calendar(identifier: .gregorian).date(from: DateComponents(timeZone: .current, year: 2026, month: 3, day: day, hour: 12))!
    }

    func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    func text(_ name: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    @Test func rotatesAtADayChangeAndKeepsHistoryFiles() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var file = RotatingFile(path: folder.appendingPathComponent("server.log").path, history: 2)
        for day in 1...5 {
            file.write("day \(day) first", at: noon(day))
            file.write("day \(day) second", at: noon(day).addingTimeInterval(3600))
        }
        #expect(files() == ["server.log", "server.log.2026-03-03", "server.log.2026-03-04"])
        #expect(text("server.log") == "day 5 first\nday 5 second\n")
        #expect(text("server.log.2026-03-04") == "day 4 first\nday 4 second\n")
        #expect(text("server.log.2026-03-03") == "day 3 first\nday 3 second\n")
    }

    @Test func historyZeroNeverRotates() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var file = RotatingFile(path: folder.appendingPathComponent("server.log").path, history: 0)
        for day in 1...3 { file.write("day \(day)", at: noon(day)) }
        #expect(files() == ["server.log"])
        #expect(text("server.log") == "day 1\nday 2\nday 3\n")
    }

    @Test func aRestartOnALaterDayRotatesTheOldFile() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("server.log").path
        try "from an earlier run\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: noon(7)], ofItemAtPath: path)
        var file = RotatingFile(path: path, history: 3)
        file.write("after the restart", at: noon(9))
        #expect(files() == ["server.log", "server.log.2026-03-07"])
        #expect(text("server.log.2026-03-07") == "from an earlier run\n")
        #expect(text("server.log") == "after the restart\n")
    }

    @Test func logHubWritesAndRotatesTheFileAtItsSeverity() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = LogHub.Configuration()
        configuration.consoleLevel = nil
        configuration.filePath = folder.appendingPathComponent("hub.log").path
        configuration.fileLevel = .warning
        configuration.fileHistory = 1
        let hub = LogHub(configuration: configuration)
        for day in 10...12 {
            hub.log(LogRecord(time: noon(day), level: .info, logger: "dhcp", message: "info \(day)"))
            hub.log(LogRecord(time: noon(day), level: .warning, logger: "dhcp", message: "warning \(day)"))
        }
        hub.flush()
        #expect(files() == ["hub.log", "hub.log.2026-03-11"])
        #expect(text("hub.log").hasSuffix(" : WARNING : warning 12\n"))
        #expect(text("hub.log.2026-03-11").hasSuffix(" : WARNING : warning 11\n"))
        #expect(!text("hub.log").contains("info"))
    }
}
