import DHCPModel
import Foundation
import Logging
import Testing
@testable import DaemonControl

/// The files `staticdhcpd reload` and the daemon meet at: the pid file and the reload status.
@Suite struct ControlFilesTests {
    private let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("control-\(UUID())")

    /// `directory/conf.lua` holding `text`.
    private func conf(_ text: String) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("conf.lua")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func thePIDFileHoldsThisProcessesPid() {
        let path = directory.appendingPathComponent("run/deeper/staticdhcpd.pid").path
        #expect(PIDFile.read(path) == nil)
        PIDFile.write(path, logger: Logger(label: "test")) // its directory is made
        #expect(PIDFile.read(path) == getpid())
        PIDFile.remove(path)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aLoadingConfLuaNamesItsPIDFile() throws {
        let server = "DHCP_SERVER_IP = \"192.0.2.1\"\n"
        #expect(PIDFile.location(for: try conf(server + "PID_FILE = \"run/dhcp.pid\"")) == directory.appendingPathComponent("run/dhcp.pid").path)
        #expect(PIDFile.location(for: try conf(server)) == directory.appendingPathComponent("state/staticdhcpd.pid").path)
    }

    /// The conf.lua being reloaded may be the broken one: its plain lines still say where.
    @Test func aBrokenConfLuaIsReadLineByLine() throws {
        let broken = try conf("""
            PID_FILE = "/run/first.pid"
            -- PID_FILE = "/run/commented.pid"
            PID_FILE_BACKUP = "/run/other.pid"
              PID_FILE   =   '/run/last.pid'  -- the last one, as Lua would leave it
            this is not Lua
            """)
        #expect(PIDFile.location(for: broken) == "/run/last.pid")
        let stateOnly = try conf("STATE_DIRECTORY = \"/var/lib/dhcp\"\nDHCP_SERVER_IP = 42 +")
        #expect(PIDFile.location(for: stateOnly) == "/var/lib/dhcp/staticdhcpd.pid")
        #expect(PIDFile.quotedSetting("PID_FILE", in: "PID_FILE = unquoted") == nil)
    }

    @Test func theReloadStatusIsReadAsItWasWritten() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pidFile = directory.appendingPathComponent("staticdhcpd.pid").path
        #expect(ReloadStatusFile.read(pidFile: pidFile) == nil)
        // The file keeps the time to the second.
        let outcome = ReloadOutcome(time: Date(timeIntervalSince1970: 1_700_000_000), succeeded: false, durationSeconds: 0.25,
                                    error: "init() failed", generation: 4, trigger: "SIGHUP", warnings: ["UID/GID changed"])
        ReloadStatusFile.write(outcome, pid: 1234, sequence: 7, pidFile: pidFile)
        let status = ReloadStatus(outcome: outcome, pid: 1234, sequence: 7)
        #expect(FileManager.default.fileExists(atPath: pidFile + ".reload"))
        #expect(ReloadStatusFile.read(pidFile: pidFile) == status)
        // The next reload of the same daemon in the same second is still told apart.
        #expect(ReloadStatus(outcome: outcome, pid: 1234, sequence: 8).identity != status.identity)
    }
}
