import DHCPWire

/// Input checks for subnets entered in the browser or the API, done before the store sees them so
/// the operator gets a message naming the field. Fields are trimmed; empty optional fields become nil;
/// address lists are parsed into `[IPv4]`.
enum SubnetValidation {
    static func validated(_ input: SubnetInput, subnet: String, serial: Int) throws -> SubnetRecord {
        let label = try label(subnet)
        guard serial >= 0 else { throw ReservationInputError("serial must be 0 or more, not \(serial)") }
        guard input.leaseTime > 0, input.leaseTime <= Int(UInt32.max) else {
            throw ReservationInputError("lease time must be between 1 and \(UInt32.max) seconds, not \(input.leaseTime)")
        }
        return SubnetRecord(
            subnet: label, serial: serial, leaseTime: UInt32(input.leaseTime),
            gateways: try addressList(input.gateway, field: "gateway"), subnetMask: try mask(input.subnetMask),
            broadcastAddress: try optionalAddress(input.broadcastAddress, field: "broadcast address"),
            domainName: try domainName(input.domainName),
            domainNameServers: try addressList(input.domainNameServers, field: "DNS servers"),
            ntpServers: try addressList(input.ntpServers, field: "NTP servers"))
    }

    /// The subnet's label (its key with the serial): free text such as `192.0.2.0/24`, but printable.
    static func label(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ReservationInputError("subnet must not be empty") }
        guard trimmed.count <= 100, trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            throw ReservationInputError("subnet \"\(trimmed.prefix(40))\" must be printable text of at most 100 characters")
        }
        return trimmed
    }

    private static func trimmedOrNil(_ text: String?) -> String? {
        guard let trimmed = text?.trimmingCharacters(in: .whitespaces), !trimmed.isEmpty else { return nil }
        return trimmed
    }

    static func optionalAddress(_ text: String?, field: String) throws -> IPv4? {
        guard let text = trimmedOrNil(text) else { return nil }
        return try ReservationValidation.checkedIPv4(text, field: field)
    }

    /// Comma-separated addresses (spaces allowed around them).
    static func addressList(_ text: String?, field: String) throws -> [IPv4] {
        guard let text = trimmedOrNil(text) else { return [] }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.contains(where: \.isEmpty) else {
            throw ReservationInputError("\(field) \"\(text)\" has an empty entry; separate addresses with single commas")
        }
        return try parts.map { try ReservationValidation.checkedIPv4($0, field: field) }
    }

    /// A subnet mask must be contiguous ones followed by zeros.
    static func mask(_ text: String?) throws -> IPv4? {
        guard let address = try optionalAddress(text, field: "subnet mask") else { return nil }
        let value = address.value
        guard value == 0 || (~value &+ 1) & ~value == 0 else {
            throw ReservationInputError("subnet mask \(address) is not a contiguous mask like 255.255.255.0")
        }
        return address
    }

    static func domainName(_ text: String?) throws -> String? {
        guard let name = trimmedOrNil(text) else { return nil }
        guard name.count <= 253, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
            throw ReservationInputError("domain name \"\(name)\" may contain only letters, digits, '-', '_' and '.' (at most 253)")
        }
        return name
    }
}

/// A subnet as the API and the form send it, before `SubnetValidation` checks it: on the API's PUT
/// the key comes from the URL, so `subnet` and `serial` may be left out (and must match the URL when given).
struct SubnetInput: Decodable {
    var subnet: String?
    var serial: Int?
    var leaseTime: Int
    var gateway: String?
    var subnetMask: String?
    var broadcastAddress: String?
    var ntpServers: String?
    var domainNameServers: String?
    var domainName: String?
}
