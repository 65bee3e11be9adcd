import DHCPModel
import DHCPWire

/// RFC 1071 Internet checksum.
public enum InternetChecksum {
    /// The one's-complement sum of `bytes` as big-endian 16-bit words (an odd last byte is padded with
    /// zero), folded to 16 bits, starting from `initial`.
    public static func sum(_ bytes: some Collection<UInt8>, initial: UInt32 = 0) -> UInt32 {
        var total = UInt64(initial)
        var high = true
        for byte in bytes {
            total += high ? UInt64(byte) << 8 : UInt64(byte)
            high.toggle()
        }
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return UInt32(total)
    }

    /// The checksum field value: the complement of the folded sum.
    public static func checksum(_ bytes: some Collection<UInt8>, initial: UInt32 = 0) -> UInt16 {
        ~UInt16(truncatingIfNeeded: sum(bytes, initial: initial))
    }
}

/// Layer-2 replies: Ethernet (+ 802.1Q tags) / IPv4 / UDP around an encoded DHCP packet (docs/PROTOCOL.md §4.3).
public enum EthernetFrame {
    /// Builds the whole frame. The IPv4 header carries DF when the payload is at most 560 bytes (as the
    /// original), TTL 128 and ID 0; both checksums are computed (a UDP checksum of 0 is sent as 0).
    public static func build(
        destinationMAC: MAC, sourceMAC: MAC, qtags: [QTag] = [],
        sourceIP: IPv4, destinationIP: IPv4, sourcePort: UInt16, destinationPort: UInt16,
        payload: [UInt8]
    ) throws(NetworkError) -> [UInt8] {
        let udpLength = payload.count + 8
        let ipLength = udpLength + 20
        guard ipLength <= 0xFFFF else {
            throw NetworkError.sendFailed("a \(payload.count)-byte DHCP payload does not fit in one IPv4 datagram")
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(14 + 4 * qtags.count + ipLength)
        frame += destinationMAC.bytes
        frame += sourceMAC.bytes
        for tag in qtags {
            frame += [0x81, 0x00]
            append16(tag.controlInformation, to: &frame)
        }
        frame += [0x08, 0x00]

        let ipStart = frame.count
        frame += [0x45, 0x00]
        append16(UInt16(ipLength), to: &frame)
        frame += [0x00, 0x00] // identification
        frame += payload.count <= 560 ? [0x40, 0x00] : [0x00, 0x00]
        frame += [0x80, 0x11, 0x00, 0x00] // TTL 128, UDP, checksum placeholder
        frame += sourceIP.bytes
        frame += destinationIP.bytes
        let headerChecksum = InternetChecksum.checksum(frame[ipStart..<(ipStart + 20)])
        frame[ipStart + 10] = UInt8(headerChecksum >> 8)
        frame[ipStart + 11] = UInt8(headerChecksum & 0xFF)

        let udpStart = frame.count
        append16(sourcePort, to: &frame)
        append16(destinationPort, to: &frame)
        append16(UInt16(udpLength), to: &frame)
        frame += [0x00, 0x00]
        frame += payload
        let pseudoHeader = sourceIP.bytes + destinationIP.bytes + [0x00, 0x11, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF)]
        let udpChecksum = InternetChecksum.checksum(
            frame[udpStart...], initial: InternetChecksum.sum(pseudoHeader)
        )
        frame[udpStart + 6] = UInt8(udpChecksum >> 8)
        frame[udpStart + 7] = UInt8(udpChecksum & 0xFF)
        return frame
    }

    private static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }
}
