import DHCPWire
import Databases
import Foundation
import Scripting

/// The reservation set served by a Lua-defined engine (`DATABASE_ENGINE = function() ... end`),
/// its table generated from `ReservationSet.expected` so it is the same set by construction.
enum LuaReservations {
    /// Runs each call alone, as the daemon's engine executor does.
    actor SerialExecutor: ScriptExecutor {
        func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T { try body() }
    }

    static func engine() throws -> any Database {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("staticdhcpd-lua-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("conf.lua")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let runtime = try ScriptRuntime(configFile: file, log: SilentLog())
        return try runtime.makeLuaDatabase(executor: SerialExecutor())
    }

    static var source: String {
        let entries = ReservationSet.expected.sorted { $0.key < $1.key }.map { mac, definition in
            "  [\(quoted(mac.description))] = \(table(definition)),"
        }
        return """
            DHCP_SERVER_IP = "192.0.2.1"
            local reservations = {
            \(entries.joined(separator: "\n"))
            }
            DATABASE_ENGINE = function()
              return {
                lookupMAC = function(mac)
                  local fields = reservations[tostring(mac)]
                  if fields then return Definition(fields) end
                  return nil
                end,
              }
            end
            """
    }

    private static func table(_ definition: Definition) -> String {
        var fields = [
            "ip = \(quoted(definition.ip.description))", "lease_time = \(definition.leaseTime)",
            "subnet = \(quoted(definition.subnet))", "serial = \(definition.serial)",
        ]
        func list(_ addresses: [IPv4]) -> String { "{" + addresses.map { quoted($0.description) }.joined(separator: ", ") + "}" }
        if let hostname = definition.hostname { fields.append("hostname = \(quoted(hostname))") }
        if !definition.gateways.isEmpty { fields.append("gateways = \(list(definition.gateways))") }
        if let mask = definition.subnetMask { fields.append("subnet_mask = \(quoted(mask.description))") }
        if let broadcast = definition.broadcastAddress { fields.append("broadcast_address = \(quoted(broadcast.description))") }
        if let domain = definition.domainName { fields.append("domain_name = \(quoted(domain))") }
        if !definition.domainNameServers.isEmpty { fields.append("domain_name_servers = \(list(definition.domainNameServers))") }
        if !definition.ntpServers.isEmpty { fields.append("ntp_servers = \(list(definition.ntpServers))") }
        if let extra = definition.extra {
            let pairs = extra.sorted { $0.key < $1.key }.map { "[\(quoted($0.key))] = \(value($0.value))" }
            fields.append("extra = {" + pairs.joined(separator: ", ") + "}")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private static func value(_ extra: ExtraValue) -> String {
        switch extra {
        case .string(let text): quoted(text)
        case .integer(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        case .list(let values): "{" + values.map(value).joined(separator: ", ") + "}"
        case .table(let values): "{" + values.sorted { $0.key < $1.key }.map { "[\(quoted($0.key))] = \(value($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Discards what the runtime logs.
struct SilentLog: ScriptLog {
    func log(_ level: LogLevel, logger: String, _ message: String) {}
}
