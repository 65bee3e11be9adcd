import DHCPWire

/// One result row of `DefinitionQuery`, as the driver read it, before validation.
///
/// Both SQL engines fill this and call `definition(for:)`, so a bad address or a dangling subnet
/// is reported the same way whichever engine stored it.
struct DefinitionRecord: Sendable {
    var ip: String?
    var hostname: String?
    var gateway: String?
    var subnetMask: String?
    var broadcastAddress: String?
    var domainName: String?
    var domainNameServers: String?
    var ntpServers: String?
    /// nil when the LEFT JOIN found no subnet row.
    var leaseTime: Int64?
    var subnet: String
    var serial: Int64
    var extra: [String: ExtraValue]

    func definition(for mac: MAC) throws -> Definition {
        let macText = mac.description
        guard let leaseTime else {
            throw DatabaseError.malformedRecord(
                mac: macText, column: "maps.subnet", value: "\(subnet)|\(serial)",
                reason: "no subnets row has subnet '\(subnet)' and serial \(serial) (or its lease_time is NULL)")
        }
        guard leaseTime >= 0, leaseTime <= Int64(UInt32.max) else {
            throw DatabaseError.malformedRecord(
                mac: macText, column: "subnets.lease_time", value: String(leaseTime),
                reason: "a lease time must be 0...\(UInt32.max) seconds")
        }
        guard let ipText = ip else {
            throw DatabaseError.malformedRecord(mac: macText, column: "maps.ip", value: "NULL", reason: "an address is required")
        }
        guard let serialValue = Int(exactly: serial) else {
            throw DatabaseError.malformedRecord(mac: macText, column: "maps.serial", value: String(serial), reason: "out of range")
        }
        return Definition(
            ip: try Self.address(ipText, mac: macText, column: "maps.ip"),
            leaseTime: UInt32(leaseTime),
            subnet: subnet,
            serial: serialValue,
            hostname: hostname.flatMap { $0.isEmpty ? nil : $0 },
            gateways: try Self.addresses(gateway, mac: macText, column: "subnets.gateway"),
            subnetMask: try subnetMask.flatMap(Self.blankToNil).map { try Self.address($0, mac: macText, column: "subnets.subnet_mask") },
            broadcastAddress: try broadcastAddress.flatMap(Self.blankToNil)
                .map { try Self.address($0, mac: macText, column: "subnets.broadcast_address") },
            domainName: domainName.flatMap(Self.blankToNil),
            domainNameServers: try Self.addresses(domainNameServers, mac: macText, column: "subnets.domain_name_servers"),
            ntpServers: try Self.addresses(ntpServers, mac: macText, column: "subnets.ntp_servers"),
            extra: extra.isEmpty ? nil : extra)
    }

    private static func blankToNil(_ text: String) -> String? {
        text.allSatisfy(\.isWhitespace) ? nil : text
    }

    static func address(_ text: String, mac: String, column: String) throws -> IPv4 {
        guard let address = IPv4(text) else {
            throw DatabaseError.malformedRecord(mac: mac, column: column, value: text, reason: "not an IPv4 address")
        }
        return address
    }

    /// A comma-separated address list; NULL or blank is an empty list.
    static func addresses(_ text: String?, mac: String, column: String) throws -> [IPv4] {
        guard let text, blankToNil(text) != nil else { return [] }
        do {
            return try IPv4.list(text, skippingEmptyPieces: false)
        } catch {
            throw DatabaseError.malformedRecord(
                mac: mac, column: column, value: text, reason: "'\(error.piece.trimmingCharacters())' is not an IPv4 address")
        }
    }
}

/// One result row of `DefinitionQuery` as a driver exposes it, column by column; `record` turns it
/// into a `DefinitionRecord` the same way for every driver.
protocol DefinitionRow {
    var mac: String { get }
    func text(_ index: Int) throws -> String?
    func integer(_ index: Int, column: String) throws -> Int64?
    func extraValue(_ index: Int) throws -> ExtraValue?
}

extension DefinitionRow {
    func record(extraKeys: [String]) throws -> DefinitionRecord {
        typealias C = DefinitionQuery.Column
        var extra: [String: ExtraValue] = [:]
        for (offset, key) in extraKeys.enumerated() {
            if let value = try extraValue(C.firstExtra + offset) { extra[key] = value }
        }
        return DefinitionRecord(
            ip: try text(C.ip), hostname: try text(C.hostname), gateway: try text(C.gateway),
            subnetMask: try text(C.subnetMask), broadcastAddress: try text(C.broadcastAddress),
            domainName: try text(C.domainName), domainNameServers: try text(C.domainNameServers),
            ntpServers: try text(C.ntpServers),
            leaseTime: try integer(C.leaseTime, column: "subnets.lease_time"),
            subnet: try text(C.subnet) ?? "",
            serial: try integer(C.serial, column: "maps.serial") ?? 0,
            extra: extra)
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var result = Substring(self)
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return String(result)
    }
}
