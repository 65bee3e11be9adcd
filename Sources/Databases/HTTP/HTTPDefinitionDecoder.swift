import DHCPWire
import Foundation

/// Turns the HTTP service's answer into definitions (the format of the original's httpdb extension).
///
/// The answer is one definition object, an array of them (several definitions: the engine's
/// `filterRetrievedDefinitions` chooses), or null / an empty body (unknown MAC). Fields:
/// `ip` and `subnet` (required), `lease_time`, `serial`, `hostname`, `gateway` (string or list),
/// `subnet_mask`, `broadcast_address`, `domain_name`, `domain_name_servers` and `ntp_servers`
/// (list or comma-separated string), `extra` (object). Other fields are ignored, so a service can
/// carry more than we read. Missing lease time, serial and name servers come from `Defaults`.
struct HTTPDefinitionDecoder: Sendable {
    struct Defaults: Sendable, Equatable {
        var leaseTime: UInt32
        var serial: Int
        var nameServers: [IPv4]
    }

    /// What was wrong with an answer, as a sentence (the engine adds the service's URI).
    struct Problem: Error, Equatable {
        let reason: String
    }

    let defaults: Defaults

    func definitions(from body: [UInt8]) throws(Problem) -> [Definition] {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return [] }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            let start = String(decoding: body.prefix(60), as: UTF8.self)
                .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
            throw Problem(reason: "the body is not JSON (it starts '\(start)\(body.count > 60 ? "..." : "")')")
        }
        switch value {
        case .null:
            return []
        case .object(let fields):
            return [try definition(fields, position: nil)]
        case .array(let items):
            return try items.enumerated().map { (index, item) throws(Problem) -> Definition in
                let position = "definition \(index + 1) of \(items.count)"
                guard case .object(let fields) = item else {
                    throw Problem(reason: "\(position) is \(item.kind), not an object")
                }
                return try definition(fields, position: position)
            }
        default:
            throw Problem(reason: "the answer is \(value.kind) ('\(value.shown)'), not a definition object, an array of them or null")
        }
    }

    private func definition(_ fields: [String: JSONValue], position: String?) throws(Problem) -> Definition {
        let reader = FieldReader(fields: fields, position: position)
        guard let ip = try reader.address("ip") else { throw reader.problem("field 'ip' is missing; every definition needs an address") }
        guard let subnet = try reader.text("subnet") else {
            throw reader.problem("field 'subnet' is missing; every definition needs a subnet label")
        }
        let leaseTime = try reader.integer("lease_time", in: 0...Int(UInt32.max), meaning: "a lease time in seconds")
        if fields["gateway"] != nil, fields["gateways"] != nil {
            throw reader.problem("fields 'gateway' and 'gateways' are both present; send one")
        }
        let gatewayField = fields["gateways"] != nil ? "gateways" : "gateway"
        return Definition(
            ip: ip,
            leaseTime: leaseTime.map { UInt32($0) } ?? defaults.leaseTime,
            subnet: subnet,
            serial: try reader.integer("serial", in: Int.min...Int.max, meaning: "an integer") ?? defaults.serial,
            hostname: try reader.text("hostname").flatMap { $0.isEmpty ? nil : $0 },
            gateways: try reader.addresses(gatewayField) ?? [],
            subnetMask: try reader.address("subnet_mask"),
            broadcastAddress: try reader.address("broadcast_address"),
            domainName: try reader.text("domain_name").flatMap { $0.isEmpty ? nil : $0 },
            domainNameServers: try reader.addresses("domain_name_servers") ?? defaults.nameServers,
            ntpServers: try reader.addresses("ntp_servers") ?? [],
            extra: try reader.extra("extra"))
    }
}

/// Reads typed fields out of one definition object; every failure names the field and its value.
private struct FieldReader {
    let fields: [String: JSONValue]
    let position: String?

    func problem(_ text: String) -> HTTPDefinitionDecoder.Problem {
        HTTPDefinitionDecoder.Problem(reason: position.map { "\($0): \(text)" } ?? text)
    }

    /// nil when absent or null.
    private func value(_ name: String) -> JSONValue? {
        guard let value = fields[name], value != .null else { return nil }
        return value
    }

    func text(_ name: String) throws(HTTPDefinitionDecoder.Problem) -> String? {
        guard let value = value(name) else { return nil }
        switch value {
        case .string(let text): return text
        case .integer(let number): return String(number)
        default: throw problem("field '\(name)' is \(value.kind) ('\(value.shown)'), not a string")
        }
    }

    func integer(_ name: String, in range: ClosedRange<Int>, meaning: String) throws(HTTPDefinitionDecoder.Problem) -> Int? {
        guard let value = value(name) else { return nil }
        let number: Int?
        switch value {
        case .integer(let integer): number = integer
        case .double(let double) where double.rounded() == double && abs(double) < 9e15: number = Int(double)
        case .string(let text): number = Int(text.trimmingCharacters())
        default: number = nil
        }
        guard let number, range.contains(number) else {
            throw problem("field '\(name)' is '\(value.shown)', not \(meaning)")
        }
        return number
    }

    func address(_ name: String) throws(HTTPDefinitionDecoder.Problem) -> IPv4? {
        guard let value = value(name) else { return nil }
        switch value {
        case .string(let text):
            if text.allSatisfy(\.isWhitespace), name != "ip" { return nil }
            guard let address = IPv4(text) else { throw problem("field '\(name)' is '\(text)', not an IPv4 address") }
            return address
        case .integer(let number) where (0...Int(UInt32.max)).contains(number):
            return IPv4(UInt32(number))
        default:
            throw problem("field '\(name)' is \(value.kind) ('\(value.shown)'), not an IPv4 address")
        }
    }

    /// A list of dotted quads or one comma-separated string; nil when absent or null.
    func addresses(_ name: String) throws(HTTPDefinitionDecoder.Problem) -> [IPv4]? {
        guard let value = value(name) else { return nil }
        let pieces: [String]
        switch value {
        case .string(let text):
            if text.allSatisfy(\.isWhitespace) { return [] }
            pieces = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        case .array(let items):
            pieces = try items.map { (item) throws(HTTPDefinitionDecoder.Problem) -> String in
                guard case .string(let text) = item else {
                    throw problem("field '\(name)' holds \(item.kind) ('\(item.shown)'), not an IPv4 address string")
                }
                return text
            }
        default:
            throw problem("field '\(name)' is \(value.kind) ('\(value.shown)'), not a list of IPv4 addresses")
        }
        return try pieces.map { (piece) throws(HTTPDefinitionDecoder.Problem) -> IPv4 in
            guard let address = IPv4(piece) else {
                throw problem("field '\(name)' holds '\(piece.trimmingCharacters())', not an IPv4 address")
            }
            return address
        }
    }

    func extra(_ name: String) throws(HTTPDefinitionDecoder.Problem) -> [String: ExtraValue]? {
        guard let value = value(name) else { return nil }
        guard case .object(let members) = value else {
            throw problem("field '\(name)' is \(value.kind) ('\(value.shown)'), not an object")
        }
        return members.compactMapValues(\.extraValue)
    }
}
