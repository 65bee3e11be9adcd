import Databases
import DHCPWire

/// A `Definition` laid out flat in a Lua userdata's memory: a fixed header, the addresses, then the
/// bytes of the strings and of `extra`.
///
/// Why flat: a userdata holding the Swift value needs a `__gc` finaliser to release its strings
/// and arrays, and Lua's collector handles finalisable objects the slow way (a separate list, a
/// resurrection, then a Lua call per object). `loadDHCPPacket` makes one definition per request,
/// so that was the largest cost of a hook call after the call itself. Plain bytes need no
/// finaliser; fields are read straight from them, and only Swift callers that want the whole
/// value (a hook's result, `==`) decode it.
///
/// The memory is written once by `write` and never changed: scripts cannot reach a userdata's
/// bytes, so `read` trusts what `write` laid out.
enum DefinitionRecord {
    /// Fixed-size part (a trivial type: no references, safe to keep in Lua-owned memory).
    struct Header {
        var ip: UInt32
        var leaseTime: UInt32
        var subnetMask: UInt32
        var broadcastAddress: UInt32
        var serial: Int
        var flags: UInt32
        var gatewayCount: Int
        var domainNameServerCount: Int
        var ntpServerCount: Int
        var subnetLength: Int
        var hostnameLength: Int
        var domainNameLength: Int
        var extraLength: Int
    }

    static let hasHostname: UInt32 = 1
    static let hasSubnetMask: UInt32 = 2
    static let hasBroadcastAddress: UInt32 = 4
    static let hasDomainName: UInt32 = 8
    static let hasExtra: UInt32 = 16

    /// The flattened `extra`, made before the userdata is allocated (nil when there is none).
    static func encodeExtra(_ definition: Definition) -> [UInt8]? {
        guard let extra = definition.extra else { return nil }
        var bytes: [UInt8] = []
        ExtraCodec.encode(.table(extra), into: &bytes)
        return bytes
    }

    /// Bytes `write` needs for `definition`.
    static func size(of definition: Definition, extra: [UInt8]?) -> Int {
        var size = MemoryLayout<Header>.stride
            + 4 * (definition.gateways.count + definition.domainNameServers.count + definition.ntpServers.count)
            + definition.subnet.utf8.count + (extra?.count ?? 0)
        // Unwrapped with `if let`: an optional String passed along is copied through the generic
        // Optional witness, which cost more than the rest of this function.
        if let hostname = definition.hostname { size += hostname.utf8.count }
        if let domainName = definition.domainName { size += domainName.utf8.count }
        return size
    }

    /// Lays `definition` out at `raw`, which holds `size(of:extra:)` bytes.
    static func write(_ definition: Definition, extra: [UInt8]?, to raw: UnsafeMutableRawPointer) {
        var header = Header(
            ip: definition.ip.value, leaseTime: definition.leaseTime, subnetMask: 0, broadcastAddress: 0,
            serial: definition.serial, flags: 0,
            gatewayCount: definition.gateways.count, domainNameServerCount: definition.domainNameServers.count,
            ntpServerCount: definition.ntpServers.count, subnetLength: definition.subnet.utf8.count,
            hostnameLength: 0, domainNameLength: 0, extraLength: 0)
        if let mask = definition.subnetMask { header.flags |= hasSubnetMask; header.subnetMask = mask.value }
        if let broadcast = definition.broadcastAddress { header.flags |= hasBroadcastAddress; header.broadcastAddress = broadcast.value }
        // Plain offsets and static helpers: a nested function capturing a `var` cursor costs an
        // exclusivity check per call, which showed in the profile.
        var offset = MemoryLayout<Header>.stride
        offset = store(definition.gateways, to: raw, at: offset)
        offset = store(definition.domainNameServers, to: raw, at: offset)
        offset = store(definition.ntpServers, to: raw, at: offset)
        offset = copy(definition.subnet, to: raw, at: offset)
        if let hostname = definition.hostname {
            header.flags |= hasHostname
            header.hostnameLength = hostname.utf8.count
            offset = copy(hostname, to: raw, at: offset)
        }
        if let domainName = definition.domainName {
            header.flags |= hasDomainName
            header.domainNameLength = domainName.utf8.count
            offset = copy(domainName, to: raw, at: offset)
        }
        if let extra {
            header.flags |= hasExtra
            header.extraLength = extra.count
            extra.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { (raw + offset).copyMemory(from: base, byteCount: bytes.count) }
            }
        }
        raw.initializeMemory(as: Header.self, repeating: header, count: 1)
    }

    @inline(__always) private static func store(_ addresses: [IPv4], to raw: UnsafeMutableRawPointer, at offset: Int) -> Int {
        var offset = offset
        for address in addresses {
            raw.storeBytes(of: address.value, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }
        return offset
    }

    @inline(__always) private static func copy(_ text: String, to raw: UnsafeMutableRawPointer, at offset: Int) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            if let base = bytes.baseAddress { (raw + offset).copyMemory(from: base, byteCount: bytes.count) }
            return offset + bytes.count
        }
    }

    /// A read-only view of a laid-out definition.
    struct View {
        let raw: UnsafeRawPointer
        var header: Header { raw.load(as: Header.self) }

        private var addressesStart: UnsafeRawPointer { raw + MemoryLayout<Header>.stride }
        private var bytesStart: UnsafeRawPointer {
            let h = header
            return addressesStart + 4 * (h.gatewayCount + h.domainNameServerCount + h.ntpServerCount)
        }

        enum AddressList { case gateways, domainNameServers, ntpServers }

        /// The values of one address list.
        func addresses(_ list: AddressList) -> [UInt32] {
            let h = header
            let (skip, count) = switch list {
            case .gateways: (0, h.gatewayCount)
            case .domainNameServers: (h.gatewayCount, h.domainNameServerCount)
            case .ntpServers: (h.gatewayCount + h.domainNameServerCount, h.ntpServerCount)
            }
            return (0..<count).map { addressesStart.load(fromByteOffset: 4 * (skip + $0), as: UInt32.self) }
        }

        enum Text { case subnet, hostname, domainName }

        /// The UTF-8 bytes of a string field; nil when the field is absent.
        func text(_ field: Text) -> UnsafeRawBufferPointer? {
            let h = header
            switch field {
            case .subnet: return UnsafeRawBufferPointer(start: bytesStart, count: h.subnetLength)
            case .hostname:
                guard h.flags & hasHostname != 0 else { return nil }
                return UnsafeRawBufferPointer(start: bytesStart + h.subnetLength, count: h.hostnameLength)
            case .domainName:
                guard h.flags & hasDomainName != 0 else { return nil }
                return UnsafeRawBufferPointer(start: bytesStart + h.subnetLength + h.hostnameLength, count: h.domainNameLength)
            }
        }

        var extra: [String: ExtraValue]? {
            let h = header
            guard h.flags & hasExtra != 0 else { return nil }
            let bytes = UnsafeRawBufferPointer(
                start: bytesStart + h.subnetLength + h.hostnameLength + h.domainNameLength, count: h.extraLength)
            var offset = 0
            guard case .table(let table) = ExtraCodec.decode(bytes, at: &offset) else { return [:] }
            return table
        }

        /// The whole value, for Swift callers.
        var definition: Definition {
            let h = header
            func string(_ field: Text) -> String? { text(field).map { String(decoding: $0, as: UTF8.self) } }
            func list(_ which: AddressList) -> [IPv4] { addresses(which).map(IPv4.init) }
            return Definition(
                ip: IPv4(h.ip), leaseTime: h.leaseTime, subnet: string(.subnet) ?? "", serial: h.serial,
                hostname: string(.hostname), gateways: list(.gateways),
                subnetMask: h.flags & hasSubnetMask != 0 ? IPv4(h.subnetMask) : nil,
                broadcastAddress: h.flags & hasBroadcastAddress != 0 ? IPv4(h.broadcastAddress) : nil,
                domainName: string(.domainName), domainNameServers: list(.domainNameServers),
                ntpServers: list(.ntpServers), extra: extra)
        }
    }
}

/// `extra` values as bytes: a tag, then the payload (lengths and counts as 8-byte integers).
enum ExtraCodec {
    private enum Tag: UInt8 { case string, integer, double, bool, list, table }

    static func encode(_ value: ExtraValue, into bytes: inout [UInt8]) {
        func integer(_ value: Int) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        func text(_ value: String) { integer(value.utf8.count); bytes.append(contentsOf: value.utf8) }
        switch value {
        case .string(let string): bytes.append(Tag.string.rawValue); text(string)
        case .integer(let number): bytes.append(Tag.integer.rawValue); integer(number)
        case .double(let number): bytes.append(Tag.double.rawValue); integer(Int(bitPattern: UInt(number.bitPattern)))
        case .bool(let flag): bytes.append(Tag.bool.rawValue); bytes.append(flag ? 1 : 0)
        case .list(let items):
            bytes.append(Tag.list.rawValue)
            integer(items.count)
            for item in items { encode(item, into: &bytes) }
        case .table(let fields):
            bytes.append(Tag.table.rawValue)
            integer(fields.count)
            for (key, item) in fields { text(key); encode(item, into: &bytes) }
        }
    }

    /// Reads what `encode` wrote, starting at `offset` (advanced past the value).
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> ExtraValue {
        func integer() -> Int {
            let value = bytes.loadUnaligned(fromByteOffset: offset, as: Int.self)
            offset += 8
            return value
        }
        func text() -> String {
            let count = integer()
            defer { offset += count }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]), as: UTF8.self)
        }
        let tag = Tag(rawValue: bytes[offset]) ?? .bool
        offset += 1
        switch tag {
        case .string: return .string(text())
        case .integer: return .integer(integer())
        case .double: return .double(Double(bitPattern: UInt64(UInt(bitPattern: integer()))))
        case .bool:
            defer { offset += 1 }
            return .bool(bytes[offset] != 0)
        case .list:
            let count = integer()
            var items: [ExtraValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(decode(bytes, at: &offset)) }
            return .list(items)
        case .table:
            let count = integer()
            var fields: [String: ExtraValue] = [:]
            fields.reserveCapacity(count)
            for _ in 0..<count {
                let key = text()
                fields[key] = decode(bytes, at: &offset)
            }
            return .table(fields)
        }
    }
}
