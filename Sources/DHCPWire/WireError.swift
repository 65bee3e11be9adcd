/// Every error the wire library throws. Each case carries a sentence naming what was wrong.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The datagram is not a DHCP packet (too short, no magic cookie, truncated option...).
    case malformedPacket(String)
    /// An option name or code that the option table does not know, or that cannot be set.
    case unknownOption(String)
    /// A value that cannot be converted to or from the option's type.
    case invalidValue(String)

    public var description: String {
        switch self {
        case .malformedPacket(let text): "malformed packet: \(text)"
        case .unknownOption(let text): "unknown option: \(text)"
        case .invalidValue(let text): "invalid value: \(text)"
        }
    }
}
