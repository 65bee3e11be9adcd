import DHCPWire
import Testing

@Suite struct ScriptAPITests {
    /// Every named option resolves by name and by number to the same code, and a value set by
    /// name is read back by number.
    @Test func everyOptionByNameAndNumber() throws {
        #expect(DHCPOptions.codesByName.count == 130) // every named option of the original's table
        for (name, code) in DHCPOptions.codesByName {
            #expect(try OptionID(.name(name)) == .option(code))
            #expect(try OptionID(.code(Int64(code))) == .option(code))
            #expect(DHCPOptions.name(of: code) == name)
            guard let info = DHCPOptions.info(code) else { Issue.record("no row for \(code)"); continue }
            var packet = DHCPPacket()
            let sample: [UInt8] = info.type == .none ? [] : [1, 2, 3, 4]
            try packet.setOption(.name(name), .list(sample.map { .integer(Int64($0)) }))
            #expect(try packet.getOption(.code(Int64(code))) == .bytes(sample), "option \(name)")
            #expect(try packet.isOption(.name(name)))
            #expect(try packet.deleteOption(.code(Int64(code))))
            #expect(try !packet.isOption(.name(name)))
        }
        #expect(try OptionID("domain_name_servers") == OptionID(6))
        #expect(try OptionID("yiaddr") == .field(.yiaddr))
        #expect(DHCPOptions.info(84) == nil)
        #expect(DHCPOptions.info(230)?.type == .reserved)
    }

    /// The log's short names are spelled out for speed; each must stay the constant name
    /// without its `DHCP_` prefix.
    @Test func shortNamesAreTheConstantNamesWithoutThePrefix() {
        for type in DHCPMessageType.allCases {
            #expect(type.name == "DHCP_" + type.shortName, "\(type)")
        }
    }

    @Test func badKeysAreRejected() {
        for key: OptionKey in [0, 255, 300, -1, "3", "Router", "no_such_option"] {
            #expect(throws: WireError.self) { try OptionID(key) }
        }
        var packet = DHCPPacket()
        #expect(throws: WireError.self) { try packet.setOption(84, .list([.integer(1)])) }
        // No side effect: 84 is still dropped on decode.
        #expect(!DHCPOptions.keptOnDecode.contains(84))
        #expect(throws: WireError.self) { try packet.setOption(224, .list([.integer(1)]), validate: false) }
    }

    /// setOption examples, with the bytes the original produced.
    @Test func setOptionExamples() throws {
        var packet = DHCPPacket()
        try packet.setOption("router", .text("1.2.3.4, 5.6.7.8"))
        #expect(packet.option(3) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(throws: WireError.self) { try packet.setOption("router", .list([.integer(192)])) }
        try packet.setOption(51, .integer(-1))
        #expect(packet.option(51) == [255, 255, 255, 255])
        #expect(throws: WireError.self) { try packet.setOption(58, .number(1.5)) }
        try packet.setOption(58, .number(60))
        #expect(packet.option(58) == [0, 0, 0, 60])
        try packet.setOption(12, .text("hé"))
        #expect(packet.option(12) == [0x68, 0xC3, 0xA9])
        try packet.setOption("file", .text("pxelinux.0"))
        #expect(packet.file == Array("pxelinux.0".utf8) + [UInt8](repeating: 0, count: 118))
        try packet.setOption("flags", .integer(0x8000))
        #expect(try packet.getOption("flags") == .bytes([0x80, 0]))
        #expect(packet.isBroadcast)
        try packet.setOption("xid", .integer(0x1234_5678))
        #expect(packet.xid == 0x1234_5678)
        try packet.setOption(80, .bool(true))
        #expect(packet.option(80) == [])
        #expect(throws: WireError.self) { try packet.setOption(3, .list([])) }
        try packet.setOption(68, .list([]))
        #expect(packet.option(68) == [])
        // The raw-list rule, and list serialisation otherwise.
        try packet.setOption(25, .list([.integer(68), .integer(200)]))
        #expect(packet.option(25) == [68, 200])
        try packet.setOption(25, .list([.integer(576), .integer(1500)]))
        #expect(packet.option(25) == [0x02, 0x40, 0x05, 0xDC])
        // Booleans: true sets [1]; reading is byte != 0.
        try packet.setOption("ip_forwarding", .bool(true))
        #expect(packet.option(19) == [1])
        try packet.setOption(19, .list([.integer(0)]))
        #expect(try packet.getOption(19, convert: true) == .bool(false))
        // One IPv4 for an ipv4+ option is one address.
        try packet.setOption(6, .ipv4(IPv4(192, 0, 2, 53)))
        #expect(packet.option(6) == [192, 0, 2, 53])
        // Fixed-size types stay lenient, as in the original.
        try packet.setOption(1, .list([255, 255, 255].map { .integer($0) }))
        #expect(packet.option(1)?.count == 3)
        // Validation off lets odd lengths through.
        try packet.setOption(3, .list([.integer(1)]), validate: false)
        #expect(packet.option(3) == [1])
        // Fields need their exact size; sname/file are padded, and too long fails.
        #expect(throws: WireError.self) { try packet.setOption("yiaddr", .list([.integer(1)])) }
        #expect(throws: WireError.self) { try packet.setOption("sname", .bytes([UInt8](repeating: 65, count: 65))) }
        #expect(throws: WireError.self) { try packet.setOption("op", .integer(300)) }
        try packet.setOption("chaddr", .mac(MAC("02:00:00:00:00:09")!))
        #expect(try packet.hardwareAddress() == MAC("02:00:00:00:00:09"))
        try packet.setOption("chaddr", .text("02-00-00-00-00-0a"))
        #expect(try packet.hardwareAddress() == MAC("02:00:00:00:00:0a"))
        // RFC-typed options take raw bytes or helper values only.
        #expect(throws: WireError.self) { try packet.setOption(119, .text("example.org")) }
        try packet.setOption(119, .rfc(try RFC.rfc3397_119("example.org")))
        #expect(packet.option(119)?.first == 7)
        #expect(throws: WireError.self) { try packet.setOption(119, .list([.integer(999)])) }
        // An RFC value works for any option.
        try packet.setOption(12, .rfc(RFCValue(name: "x", bytes: [1, 2])))
        #expect(packet.option(12) == [1, 2])
    }

    @Test func getOptionConversions() throws {
        var packet = DHCPPacket()
        try packet.setOption(61, .list([1, 0, 0x11, 0x22, 0x33, 0x44, 0x55].map { .integer($0) }))
        #expect(try packet.getOption(61, convert: true) == .integers([256, 4386, 13124]))
        try packet.setOption(6, .text("192.0.2.1,192.0.2.2"))
        #expect(try packet.getOption("domain_name_servers", convert: true) == .ipv4s([IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)]))
        try packet.setOption(2, .integer(-1))
        #expect(try packet.getOption(2, convert: true) == .integer(0xFFFF_FFFF))
        try packet.setOption(15, .text("example.org"))
        #expect(try packet.getOption(15, convert: true) == .byteString(Array("example.org".utf8)))
        try packet.setOption(80, .bool(true))
        #expect(try packet.getOption(80, convert: true) == .empty)
        #expect(try packet.getOption(12, convert: true) == nil)
        try packet.setOption(82, .list([1, 3, 65, 66, 67, 2, 2, 1, 2].map { .integer($0) }))
        #expect(try packet.getOption(82, convert: true) == .relayAgent([1: [65, 66, 67], 2: [1, 2]]))
        #expect(packet.option(82)?.count == 9) // not mutated
        try packet.setOption(124, .list([0, 0, 0, 9, 3, 1, 2, 3, 0, 0, 1, 0, 0].map { .integer($0) }))
        #expect(try packet.getOption(124, convert: true) == .vendorClasses([9: [1, 2, 3], 256: []]))
        try packet.setOption(125, .list([0, 0, 0, 9, 5, 1, 3, 7, 8, 9].map { .integer($0) }))
        #expect(try packet.getOption(125, convert: true) == .vendorSpecific([9: [1: [7, 8, 9]]]))
        try packet.setOption(121, .list([.integer(0)]))
        #expect(throws: WireError.self) { try packet.getOption(121, convert: true) }
        #expect(throws: WireError.self) { try packet.getOption("chaddr", convert: true) }
        packet.siaddr = IPv4(192, 0, 2, 9)
        #expect(try packet.getOption("siaddr", convert: true) == .ipv4(IPv4(192, 0, 2, 9)))
        #expect(try packet.getOption("secs", convert: true) == .integer(0))
        #expect(try packet.getOption("sname", convert: true) == .byteString([UInt8](repeating: 0, count: 64)))
    }

    @Test func selection() throws {
        var packet = DHCPPacket()
        try packet.setOption(12, .text("a"))
        try packet.setOption(42, .text("192.0.2.1"))
        try packet.setOption(1, .text("255.255.255.0"))
        #expect(packet.getSelectedOptions() == [1, 12, 42])
        #expect(packet.getSelectedOptions(translate: true) == ["hostname", "ntp_servers", "subnet_mask"])
        try packet.setSelectedOptions(added: [1, "hostname"])
        #expect(packet.getSelectedOptions() == [1, 12])
        #expect(try packet.isSelectedOption(12) && !packet.isSelectedOption("ntp_servers"))
        try packet.setOption(42, .text("192.0.2.2"), forceSelection: true)
        #expect(try packet.isSelectedOption(42))
        try packet.setSelectedOptions(removed: [12])
        #expect(packet.getSelectedOptions() == [1, 42])
        #expect(throws: WireError.self) { try packet.setSelectedOptions(added: ["yiaddr"]) }
        try packet.setSelectedOptions()
        #expect(packet.selectedOptions == nil)
        // An empty selection reports nothing, matching what is sent (the original reported everything).
        packet.selectedOptions = []
        #expect(packet.getSelectedOptions().isEmpty)
        #expect(Array(packet.encode()[240...]) == [255, 0, 0, 0])
        #expect(try packet.isOption("yiaddr") && packet.isSelectedOption("file"))
    }

    @Test func flagsAndAddresses() throws {
        var packet = DHCPPacket()
        #expect(packet.setFlag(DHCPPacket.broadcastFlag, true) == (true, false))
        #expect(packet.setFlag(DHCPPacket.broadcastFlag, true) == (false, true))
        #expect(packet.getFlag(0x8000))
        #expect(try packet.extractIPOrNone("ciaddr") == nil)
        #expect(try packet.extractIPOrNone(50) == nil)
        try packet.setOption(50, .text("192.0.2.7"))
        #expect(try packet.extractIPOrNone("requested_ip_address") == IPv4(192, 0, 2, 7))
        try packet.setOption(50, .list([.integer(0), .integer(0)]))
        #expect(try packet.extractIPOrNone(50) == nil)
        try packet.setOption(50, .list([.integer(1), .integer(0)]))
        #expect(throws: WireError.self) { try packet.extractIPOrNone(50) }
        #expect(try packet.deleteOption("yiaddr"))
        packet.hlen = 3
        #expect(throws: WireError.self) { try packet.hardwareAddress() }
    }

    @Test func messageTypesAndMethods() throws {
        var packet = DHCPPacket()
        #expect(packet.getDHCPMessageTypeName() == "UNKNOWN_UNKNOWN")
        packet.messageType = .discover
        #expect(packet.isDHCPDiscoverPacket && packet.getDHCPMessageTypeName() == "DHCP_DISCOVER")
        #expect(packet.requestMethod(sourceIP: .zero) == .discover)
        packet.messageType = .request
        try packet.setOption(54, .text("192.0.2.1"))
        #expect(packet.requestMethod(sourceIP: .zero)?.name == "REQUEST:SELECTING")
        packet.removeOption(54)
        try packet.setOption(50, .text("192.0.2.10"))
        #expect(packet.requestMethod(sourceIP: .zero)?.name == "REQUEST:INIT-REBOOT")
        packet.removeOption(50)
        packet.ciaddr = IPv4(192, 0, 2, 10)
        #expect(packet.requestMethod(sourceIP: IPv4(192, 0, 2, 10))?.name == "REQUEST:RENEW")
        #expect(packet.requestMethod(sourceIP: .broadcast)?.name == "REQUEST:REBIND")
        try packet.setOption(50, .text("192.0.2.10"))
        #expect(packet.requestMethod(sourceIP: .zero) == .request)
        packet.messageType = .ack
        #expect(packet.requestMethod(sourceIP: .zero) == nil)
        for (type, method) in [(DHCPMessageType.inform, "INFORM"), (.decline, "DECLINE"), (.release, "RELEASE"),
                               (.leaseQuery, "LEASEQUERY")] {
            packet.messageType = type
            #expect(packet.requestMethod(sourceIP: .zero)?.name == method)
        }
        try packet.setOption(53, .integer(0))
        #expect(packet.getDHCPMessageTypeName() == "ERROR_UNDEF")
    }

    @Test func transforms() throws {
        func request() throws -> DHCPPacket {
            var packet = DHCPPacket()
            packet.op = 1; packet.hlen = 7; packet.secs = 9; packet.hops = 1
            packet.ciaddr = IPv4(192, 0, 2, 1); packet.yiaddr = IPv4(192, 0, 2, 2); packet.siaddr = IPv4(192, 0, 2, 3)
            packet.giaddr = IPv4(198, 51, 100, 1)
            try packet.setOption("sname", .text("s"))
            for code: Int64 in [22, 43, 50, 52, 55, 57, 60, 61, 93, 94, 97, 118, 124, 125, 12, 51, 82] {
                try packet.setOption(.code(code), .list([0, 1, 0, 1].map { .integer($0) }), validate: false)
            }
            return packet
        }
        var offer = try request()
        offer.transformToOffer()
        #expect(offer.storedCodes == CodeSet([12, 51, 82, 53]))
        #expect(offer.op == 2 && offer.hlen == 6 && offer.secs == 0 && offer.hops == 1 && offer.ciaddr.isZero)
        #expect(offer.giaddr == IPv4(198, 51, 100, 1) && offer.messageType == .offer)
        var ack = try request()
        ack.transformToAck()
        #expect(ack.ciaddr == IPv4(192, 0, 2, 1) && ack.messageType == .ack)
        var nak = try request()
        nak.transformToNak()
        #expect(nak.storedCodes == CodeSet([12, 82, 53]))
        #expect(nak.ciaddr.isZero && nak.yiaddr.isZero && nak.siaddr.isZero && nak.sname.allSatisfy { $0 == 0 })
        var active = try request()
        active.transformToLeaseActive()
        #expect(active.messageType == .leaseActive && active.ciaddr.isZero && active.yiaddr == IPv4(192, 0, 2, 2))
        var unassigned = try request()
        unassigned.transformToLeaseUnassigned()
        #expect(unassigned.isDHCPLeaseUnassignedPacket)
        var unknown = try request()
        unknown.transformToLeaseUnknown()
        #expect(unknown.isDHCPLeaseUnknownPacket && unknown.storedCodes.contains(51))
    }

    @Test func descriptionDump() throws {
        var packet = DHCPPacket()
        packet.messageType = .offer
        try packet.setOption(6, .text("192.0.2.53"))
        packet.selectedOptions = [53]
        let withReserved = Array(packet.encode().dropLast(4)) + [230, 1, 7, 255]
        let text = try DHCPPacket(decoding: withReserved).description
        #expect(text.contains("::Header::") && text.contains("::Body::"))
        #expect(text.contains("[-] 53 dhcp_message_type: 2"))
        #expect(packet.description.contains("[ ] 6 domain_name_servers: 192.0.2.53"))
        #expect(text.contains("230 reserved: 07"))
    }
}
