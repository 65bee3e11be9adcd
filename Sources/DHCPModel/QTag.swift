/// One 802.1Q tag for layer-2 replies: an entry `{pcp, dei, vid}` of
/// `DHCP_RESPONSE_INTERFACE_QTAGS`, read by Scripting and written into frames by DHCPNetwork.
public struct QTag: Hashable, Sendable {
    /// Priority code point, 0...7.
    public let pcp: UInt8
    /// Drop-eligible indicator.
    public let dei: Bool
    /// VLAN identifier, 1...4094 (0 and 4095 are reserved by 802.1Q).
    public let vid: UInt16

    /// nil when pcp or vid is out of range.
    public init?(pcp: Int, dei: Bool, vid: Int) {
        guard (0...7).contains(pcp), (1...4094).contains(vid) else { return nil }
        self.pcp = UInt8(pcp)
        self.dei = dei
        self.vid = UInt16(vid)
    }

    /// The tag control information: pcp in bits 15-13, dei in bit 12, vid in bits 11-0.
    public var controlInformation: UInt16 {
        UInt16(pcp) << 13 | (dei ? 1 << 12 : 0) | vid
    }
}
