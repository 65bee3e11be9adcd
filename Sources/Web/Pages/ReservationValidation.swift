import DHCPWire

/// Input checks for reservations entered in the browser or the API, done before the store sees
/// them so the operator gets a precise message. The store still validates on its own.
enum ReservationValidation {
    static func validated(mac: String, ip: String, hostname: String?, subnet: String, serial: Int) throws -> Reservation {
        let mac = try normalisedMAC(mac)
        let ip = try checkedIPv4(ip, field: "IP address")
        let hostname = hostname?.trimmingCharacters(in: .whitespaces) ?? ""
        if !hostname.isEmpty {
            guard hostname.count <= 253, hostname.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }),
                  hostname.allSatisfy(\.isASCII)
            else { throw ReservationInputError("hostname \"\(hostname)\" may contain only letters, digits, '-', '_' and '.' (at most 253)") }
        }
        let subnet = subnet.trimmingCharacters(in: .whitespaces)
        guard !subnet.isEmpty else { throw ReservationInputError("subnet must not be empty") }
        guard serial >= 0 else { throw ReservationInputError("serial must be 0 or more, not \(serial)") }
        return Reservation(mac: mac, ip: ip, subnet: subnet, serial: serial, hostname: hostname.isEmpty ? nil : hostname)
    }

    /// `aa:bb:cc:dd:ee:ff`, accepting `-` or `.`-free variants and any case.
    static func normalisedMAC(_ text: String) throws -> MAC {
        let hex = text.trimmingCharacters(in: .whitespaces).lowercased().filter { $0 != ":" && $0 != "-" && $0 != "." }
        guard hex.count == 12, hex.allSatisfy(\.isHexDigit), let mac = MAC(hex) else {
            throw ReservationInputError("MAC address \"\(text)\" is not six hexadecimal octets like aa:bb:cc:dd:ee:ff")
        }
        return mac
    }

    static func checkedIPv4(_ text: String, field: String) throws -> IPv4 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0).map { $0 <= 255 } == true }),
              let address = IPv4(trimmed)
        else { throw ReservationInputError("\(field) \"\(text)\" is not a dotted IPv4 address like 192.0.2.10") }
        return address
    }
}
