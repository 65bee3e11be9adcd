/// A readable dump in the spirit of the original's `str(packet)`: a header section, then one line
/// per stored option marked `[X]` (selected), `[ ]` (not selected) or `[-]` (53 and 55).
extension DHCPPacket: CustomStringConvertible {
    public var description: String {
        var lines: [String] = ["::Header::"]
        let opName = op == 1 ? "BOOTREQUEST" : op == 2 ? "BOOTREPLY" : "ERROR_UNDEF"
        lines.append("\top: \(opName)")
        lines.append("\thwmac: \((try? hardwareAddress())?.description ?? hex(chaddr))")
        lines.append("\tflags: \(isBroadcast ? "broadcast" : "")")
        lines.append("\thops: \(hops)")
        lines.append("\tsecs: \(secs)")
        lines.append("\txid: \(xid)")
        lines.append("\tsiaddr: \(siaddr)")
        lines.append("\tgiaddr: \(giaddr)")
        lines.append("\tciaddr: \(ciaddr)")
        lines.append("\tyiaddr: \(yiaddr)")
        lines.append("\tsname: \(printable(sname))")
        lines.append("\tfile: \(printable(file))")
        lines.append("::Body::")
        for option in optionLines {
            let mark = option.code == 53 || option.code == 55 ? "[-]" : option.selected ? "[X]" : "[ ]"
            lines.append("\t\(mark) \(option.code) \(option.name): \(option.value)")
        }
        return lines.joined(separator: "\n")
    }

    /// Every stored option in order, by its name in the option table, its value rendered by its
    /// type (hex when the table has no type for it or the bytes do not fit it).
    public var optionLines: [OptionLine] {
        var lines: [OptionLine] = []
        forEachRecord { code, value in
            let name = DHCPOptions.name(of: code) ?? "reserved"
            let shown: String
            if let info = DHCPOptions.info(code),
               let converted = try? ValueCodec.deserialise(Array(value), as: info.type, what: name) {
                shown = render(converted)
            } else {
                shown = hex(Array(value))
            }
            lines.append(OptionLine(code: code, name: name, value: shown, selected: selection?.contains(code) ?? true))
        }
        return lines
    }

    private func printable(_ bytes: [UInt8]) -> String {
        var trimmed = bytes[...]
        while trimmed.last == 0 { trimmed = trimmed.dropLast() }
        return String(decoding: trimmed, as: UTF8.self)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    private func render(_ value: OptionValue) -> String {
        switch value {
        case .integer(let number): "\(number)"
        case .integers(let numbers): numbers.map(String.init).joined(separator: ", ")
        case .ipv4(let address): address.description
        case .ipv4s(let addresses): addresses.map(\.description).joined(separator: ", ")
        case .byteString(let bytes): "'\(printable(bytes))'"
        case .bytes(let bytes): bytes.map(String.init).joined(separator: ", ")
        case .bool(let flag): flag ? "true" : "false"
        case .empty: "(empty)"
        case .relayAgent, .vendorClasses, .vendorSpecific: "\(value)"
        }
    }
}

/// One option of a packet as people read it (`DHCPPacket.optionLines`, its only maker: the
/// memberwise init Swift writes serves).
public struct OptionLine: Sendable, Equatable, Codable {
    public var code: UInt8
    public var name: String
    public var value: String
    /// Sent in the reply (no option 55, or selected by it).
    public var selected: Bool
}
