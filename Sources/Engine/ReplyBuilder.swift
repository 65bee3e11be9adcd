import Databases
import DHCPWire

/// Fills a reply from a Definition (docs/PROTOCOL.md §3.2).
enum ReplyBuilder {
    static func populate(_ reply: inout DHCPPacket, from definition: Definition, assignAddress: Bool) {
        if assignAddress {
            reply.yiaddr = definition.ip
            reply.setOption(OptionCode.leaseTime, bytes: bigEndianBytes(definition.leaseTime))
        }
        if !definition.gateways.isEmpty {
            reply.setOption(OptionCode.router, bytes: addressBytes(definition.gateways))
        }
        if let mask = definition.subnetMask {
            reply.setOption(OptionCode.subnetMask, bytes: mask.bytes)
        }
        if let broadcast = definition.broadcastAddress {
            reply.setOption(OptionCode.broadcastAddress, bytes: broadcast.bytes)
        }
        if let hostname = definition.hostname, !hostname.isEmpty {
            reply.setOption(OptionCode.hostname, bytes: Array(hostname.utf8))
        }
        if let domain = definition.domainName, !domain.isEmpty {
            reply.setOption(OptionCode.domainName, bytes: Array(domain.utf8))
        }
        if !definition.domainNameServers.isEmpty {
            reply.setOption(OptionCode.domainNameServers, bytes: addressBytes(definition.domainNameServers))
        }
        if !definition.ntpServers.isEmpty {
            reply.setOption(OptionCode.ntpServers, bytes: addressBytes(definition.ntpServers))
        }
    }

    /// What every reply gets just before it is sent: option 54, and the relay agent information
    /// echoed back to the relay (RFC 3046 §2.2) even when the client did not ask for it.
    static func finish(_ reply: inout DHCPPacket, serverIP: IPv4) {
        reply.setOption(OptionCode.serverIdentifier, bytes: serverIP.bytes)
        if reply.hasOption(OptionCode.relayAgent) {
            reply.select(OptionCode.relayAgent)
        }
    }

    static func addressBytes(_ addresses: [IPv4]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(addresses.count * 4)
        for address in addresses { bytes.append(contentsOf: address.bytes) }
        return bytes
    }

    static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}

/// The option codes the engine itself reads or writes.
enum OptionCode {
    static let subnetMask: UInt8 = 1
    static let router: UInt8 = 3
    static let domainNameServers: UInt8 = 6
    static let hostname: UInt8 = 12
    static let domainName: UInt8 = 15
    static let broadcastAddress: UInt8 = 28
    static let ntpServers: UInt8 = 42
    static let requestedIP: UInt8 = 50
    static let leaseTime: UInt8 = 51
    static let serverIdentifier: UInt8 = 54
    static let rapidCommit: UInt8 = 80
    static let relayAgent: UInt8 = 82
}
