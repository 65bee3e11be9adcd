/// Input checks for reservations entered in the browser or the API, done before the store sees
/// them so the operator gets a precise message. The store still validates on its own.
enum ReservationValidation {
    static func validated(_ reservation: Reservation) throws -> Reservation {
        var result = reservation
        result.mac = try normalisedMAC(reservation.mac)
        result.ip = try checkedIPv4(reservation.ip, field: "IP address")
        let hostname = reservation.hostname?.trimmingCharacters(in: .whitespaces) ?? ""
        if !hostname.isEmpty {
            guard hostname.count <= 253, hostname.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }),
                  hostname.allSatisfy(\.isASCII)
            else { throw ReservationInputError("hostname \"\(hostname)\" may contain only letters, digits, '-', '_' and '.' (at most 253)") }
        }
        result.hostname = hostname.isEmpty ? nil : hostname
        result.subnet = reservation.subnet.trimmingCharacters(in: .whitespaces)
        guard !result.subnet.isEmpty else { throw ReservationInputError("subnet must not be empty") }
        guard reservation.serial >= 0 else { throw ReservationInputError("serial must be 0 or more, not \(reservation.serial)") }
        return result
    }

    /// `aa:bb:cc:dd:ee:ff`, accepting `-` or `.`-free variants and any case.
    static func normalisedMAC(_ text: String) throws -> String {
        let hex = text.trimmingCharacters(in: .whitespaces).lowercased().filter { $0 != ":" && $0 != "-" && $0 != "." }
        guard hex.count == 12, hex.allSatisfy(\.isHexDigit) else {
            throw ReservationInputError("MAC address \"\(text)\" is not six hexadecimal octets like aa:bb:cc:dd:ee:ff")
        }
        var octets: [String] = []
        var index = hex.startIndex
        for _ in 0..<6 {
            let next = hex.index(index, offsetBy: 2)
            octets.append(String(hex[index..<next]))
            index = next
        }
        return octets.joined(separator: ":")
    }

    static func checkedIPv4(_ text: String, field: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0).map { $0 <= 255 } == true })
        else { throw ReservationInputError("\(field) \"\(text)\" is not a dotted IPv4 address like 192.0.2.10") }
        return parts.map { String(Int($0)!) }.joined(separator: ".")
    }
}
