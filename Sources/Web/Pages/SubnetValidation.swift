/// Input checks for subnets entered in the browser or the API, done before the store sees them so
/// the operator gets a message naming the field. Fields are trimmed; empty optional fields become nil;
/// address lists are normalised to `a,b,c`.
enum SubnetValidation {
    static func validated(_ subnet: SubnetRecord) throws -> SubnetRecord {
        var result = subnet
        result.subnet = try label(subnet.subnet)
        guard subnet.serial >= 0 else { throw ReservationInputError("serial must be 0 or more, not \(subnet.serial)") }
        guard subnet.leaseTime > 0, subnet.leaseTime <= Int(UInt32.max) else {
            throw ReservationInputError("lease time must be between 1 and \(UInt32.max) seconds, not \(subnet.leaseTime)")
        }
        result.gateway = try addressList(subnet.gateway, field: "gateway")
        result.subnetMask = try mask(subnet.subnetMask)
        result.broadcastAddress = try optionalAddress(subnet.broadcastAddress, field: "broadcast address")
        result.ntpServers = try addressList(subnet.ntpServers, field: "NTP servers")
        result.domainNameServers = try addressList(subnet.domainNameServers, field: "DNS servers")
        result.domainName = try domainName(subnet.domainName)
        return result
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

    static func optionalAddress(_ text: String?, field: String) throws -> String? {
        guard let text = trimmedOrNil(text) else { return nil }
        return try ReservationValidation.checkedIPv4(text, field: field)
    }

    /// Comma-separated addresses (spaces allowed around them).
    static func addressList(_ text: String?, field: String) throws -> String? {
        guard let text = trimmedOrNil(text) else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.contains(where: \.isEmpty) else {
            throw ReservationInputError("\(field) \"\(text)\" has an empty entry; separate addresses with single commas")
        }
        return try parts.map { try ReservationValidation.checkedIPv4($0, field: field) }.joined(separator: ",")
    }

    /// A subnet mask must be contiguous ones followed by zeros.
    static func mask(_ text: String?) throws -> String? {
        guard let address = try optionalAddress(text, field: "subnet mask") else { return nil }
        let value = address.split(separator: ".").reduce(UInt32(0)) { $0 << 8 | UInt32($1)! }
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
