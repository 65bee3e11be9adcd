import DHCPWire
import Databases
import Foundation
import Scripting
import Synchronization

/// Collects every log record the runtime emits.
final class LogRecorder: ScriptLog {
    let records = Mutex<[(LogLevel, String, String)]>([])

    func log(_ level: LogLevel, logger: String, _ message: String) {
        records.withLock { $0.append((level, logger, message)) }
    }

    var messages: [String] { records.withLock { $0.map(\.2) } }

    func contains(_ text: String, level: LogLevel? = nil) -> Bool {
        records.withLock { $0.contains { $0.2.contains(text) && (level == nil || $0.0 == level) } }
    }
}

let baseSettings = """
DHCP_SERVER_IP = "192.0.2.1"
DATABASE_ENGINE = "SQLite"
SQLITE_FILE = "dhcp.sqlite3"

"""

/// Writes `source` as conf.lua (plus extension modules) in a fresh directory.
func writeConfig(_ source: String, extensions: [String: String] = [:]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("scripting-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    if !extensions.isEmpty {
        let extensionDirectory = directory.appendingPathComponent("staticDHCPd_extensions")
        try FileManager.default.createDirectory(at: extensionDirectory, withIntermediateDirectories: true)
        for (name, text) in extensions {
            try text.write(to: extensionDirectory.appendingPathComponent(name + ".lua"), atomically: true, encoding: .utf8)
        }
    }
    let file = directory.appendingPathComponent("conf.lua")
    try source.write(to: file, atomically: true, encoding: .utf8)
    return file
}

func makeRuntime(_ source: String, settings: String = baseSettings, limits: ScriptLimits = .default,
                 extensions: [String: String] = [:]) throws -> (ScriptRuntime, LogRecorder) {
    let log = LogRecorder()
    let runtime = try ScriptRuntime(configFile: writeConfig(settings + source, extensions: extensions), limits: limits, log: log)
    return (runtime, log)
}

let testMAC = MAC(0xAABB_CCDD_EEFF)

/// A REQUEST from `mac` asking for 192.0.2.10 with the usual parameter list.
func requestPacket(mac: MAC = testMAC, type: UInt8 = 3) -> DHCPPacket {
    var packet = DHCPPacket()
    packet.op = 1
    packet.htype = 1
    packet.hlen = 6
    packet.xid = 0x1234_5678
    packet.setHardwareAddress(mac)
    packet.setOption(53, bytes: [type])
    packet.setOption(50, bytes: [192, 0, 2, 10])
    packet.setOption(55, bytes: [1, 3, 6, 15, 51, 58, 59])
    return packet
}

func context(_ method: String = "REQUEST:SELECTING", mac: MAC = testMAC, requestID: UInt64 = 1) -> RequestContext {
    RequestContext(method: method, mac: mac, clientIP: IPv4(192, 0, 2, 10), relayIP: nil, port: 67, requestID: requestID)
}

let sampleDefinition = Definition(
    ip: IPv4(192, 0, 2, 99), leaseTime: 600, subnet: "192.0.2.0/24", serial: 0,
    hostname: "box", gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0))

/// Resident set size in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
