import DHCPWire
import Foundation
import Logging

/// `DATABASE_ENGINE = "INI"`: the whole of `INI_FILE` held in memory.
///
/// Sections `[label|serial]` are subnets, sections whose name holds exactly 12 hex digits are
/// reservations (any spelling), anything else is skipped with a warning. Keys the spec does not
/// define go to `extra` as `subnets.<key>` / `maps.<key>`; a value may carry a type prefix
/// (`i:42`, `f:1.5`, `b:yes`, `s:text`).
///
/// Reloading parses the new file completely before swapping it in: a bad file throws an error
/// naming the line and the engine keeps serving the previous data.
public final class INIDatabase: Database {
    public var engineName: String { "INI" }

    private let path: String
    private let logger: Logger
    private let table: Locked<[UInt64: Definition]>

    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        table = Locked(try Self.load(path, logger: logger))
    }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        lookupImmediately(mac) ?? []
    }

    public func lookupImmediately(_ mac: MAC) -> [Definition]? {
        table.withLock { $0[mac.value] }.map { [$0] } ?? []
    }

    public func reinitialise() async throws {
        let fresh: [UInt64: Definition]
        do {
            fresh = try Self.load(path, logger: logger)
        } catch {
            logger.error("INI database not reloaded, still serving the previous data: \(error)")
            throw error
        }
        table.withLock { $0 = fresh }
        logger.info("INI database \(path) reloaded: \(fresh.count) reservation(s)")
    }

    static func load(_ path: String, logger: Logger) throws -> [UInt64: Definition] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DatabaseError.unavailable(engine: "INI", reason: "cannot read \(path): \(error.localizedDescription)")
        }
        return try INIReader(file: try INIFile(text: text, path: path), path: path, logger: logger).definitions()
    }
}

/// Turns the sections of an INI file into definitions, checking every key.
private struct INIReader {
    let file: INIFile
    let path: String
    let logger: Logger

    func definitions() throws -> [UInt64: Definition] {
        var subnets: [SubnetKey: Definition] = [:]
        var maps: [(MAC, INIFile.Section)] = []
        for section in file.sections {
            if let (label, serial) = Self.subnetName(section.name) {
                subnets[SubnetKey(subnet: label, serial: serial)] = try subnet(section, label: label, serial: serial)
            } else if let mac = MAC(section.name) {
                maps.append((mac, section))
            } else {
                logger.warning("\(path), line \(section.line): unrecognised section [\(section.name)], skipped")
            }
        }
        var table: [UInt64: Definition] = [:]
        for (mac, section) in maps {
            if table[mac.value] != nil {
                throw bad(section.line, "\(mac) is defined twice (section [\(section.name)])")
            }
            table[mac.value] = try map(section, mac: mac, subnets: subnets)
        }
        return table
    }

    /// `^(.+?)\|(\d+)$`: the label may itself contain '|'; the serial follows the last one.
    static func subnetName(_ name: String) -> (String, Int)? {
        guard let bar = name.lastIndex(of: "|") else { return nil }
        let label = String(name[..<bar])
        let digits = name[name.index(after: bar)...]
        guard !label.isEmpty, !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let serial = Int(digits)
        else { return nil }
        return (label, serial)
    }

    private static let subnetKeys: Set = [
        "lease-time", "gateway", "subnet-mask", "broadcast-address", "ntp-servers", "domain-name-servers", "domain-name",
    ]
    private static let mapKeys: Set = ["ip", "hostname", "subnet", "serial"]

    private func subnet(_ section: INIFile.Section, label: String, serial: Int) throws -> Definition {
        guard let leaseEntry = section.entry("lease-time") else {
            throw bad(section.line, "subnet [\(section.name)] has no lease-time")
        }
        guard let lease = UInt32(leaseEntry.value), lease > 0 else {
            throw bad(leaseEntry.line, "lease-time '\(leaseEntry.value)' must be a whole number of seconds above 0")
        }
        var extra: [String: ExtraValue] = [:]
        for entry in section.entries where !Self.subnetKeys.contains(entry.key) {
            extra["subnets.\(entry.key)"] = try typed(entry)
        }
        return Definition(
            ip: .zero, leaseTime: lease, subnet: label, serial: serial,
            gateways: try addresses(section.entry("gateway")),
            subnetMask: try address(section.entry("subnet-mask")),
            broadcastAddress: try address(section.entry("broadcast-address")),
            domainName: section.entry("domain-name")?.value,
            domainNameServers: try addresses(section.entry("domain-name-servers")),
            ntpServers: try addresses(section.entry("ntp-servers")),
            extra: extra)
    }

    private func map(_ section: INIFile.Section, mac: MAC, subnets: [SubnetKey: Definition]) throws -> Definition {
        func required(_ key: String) throws -> INIFile.Entry {
            guard let entry = section.entry(key) else { throw bad(section.line, "[\(section.name)] has no \(key)") }
            return entry
        }
        let ipEntry = try required("ip")
        guard let ip = IPv4(ipEntry.value) else { throw bad(ipEntry.line, "ip '\(ipEntry.value)' is not an IPv4 address") }
        let subnetEntry = try required("subnet")
        let serialEntry = try required("serial")
        guard let serial = Int(serialEntry.value) else {
            throw bad(serialEntry.line, "serial '\(serialEntry.value)' is not an integer")
        }
        guard var definition = subnets[SubnetKey(subnet: subnetEntry.value, serial: serial)] else {
            throw bad(
                subnetEntry.line,
                "\(mac) refers to subnet '\(subnetEntry.value)' serial \(serial), which has no [\(subnetEntry.value)|\(serial)] section")
        }
        definition.ip = ip
        definition.hostname = section.entry("hostname")?.value
        var extra = definition.extra ?? [:]
        for entry in section.entries where !Self.mapKeys.contains(entry.key) {
            extra["maps.\(entry.key)"] = try typed(entry)
        }
        definition.extra = extra.isEmpty ? nil : extra
        return definition
    }

    /// A value with an optional `s:`, `i:`, `f:` or `b:` prefix.
    private func typed(_ entry: INIFile.Entry) throws -> ExtraValue {
        let value = entry.value
        let prefix = value.prefix(2).lowercased()
        let rest = String(value.dropFirst(2))
        switch prefix {
        case "s:":
            return .string(rest)
        case "i:":
            guard let number = Int(rest.trimmingCharacters()) else { throw bad(entry.line, "\(entry.key): '\(rest)' is not an integer") }
            return .integer(number)
        case "f:":
            guard let number = Double(rest.trimmingCharacters()) else { throw bad(entry.line, "\(entry.key): '\(rest)' is not a number") }
            return .double(number)
        case "b:":
            return .bool(["y", "yes", "t", "true", "ok", "okay", "1"].contains(rest.trimmingCharacters().lowercased()))
        default:
            return .string(value)
        }
    }

    private func address(_ entry: INIFile.Entry?) throws -> IPv4? {
        guard let entry, !entry.value.isEmpty else { return nil }
        guard let address = IPv4(entry.value) else { throw bad(entry.line, "\(entry.key) '\(entry.value)' is not an IPv4 address") }
        return address
    }

    private func addresses(_ entry: INIFile.Entry?) throws -> [IPv4] {
        guard let entry, !entry.value.isEmpty else { return [] }
        do {
            return try IPv4.list(entry.value)
        } catch {
            throw bad(entry.line, "\(entry.key): '\(error.piece.trimmingCharacters())' is not an IPv4 address")
        }
    }

    private func bad(_ line: Int, _ reason: String) -> DatabaseError {
        .badFile(path: path, line: line, reason: reason)
    }
}

struct SubnetKey: Hashable, Sendable {
    var subnet: String
    var serial: Int
}
