/// The option lenient decoding left out because the datagram (or the `file`/`sname` field carrying
/// overloaded options) ended inside it: its length byte is missing, or it declares more bytes than
/// remain. Every complete option before it was kept (docs/PROTOCOL.md §6 item 17). Only the decoder
/// makes one, with the memberwise init Swift writes.
public struct TruncatedOption: Sendable, Equatable, CustomStringConvertible {
    /// Where the broken option sat: the options area, or a header field used for overload (option 52).
    public enum Area: String, Sendable {
        case options, file, sname
    }

    public let code: UInt8
    /// Offset of the option's code byte in the datagram.
    public let offset: Int
    /// The length the option declared; nil when the code was the area's last byte.
    public let declaredLength: Int?
    /// Bytes left in the area after the length byte (0 when there was no length byte).
    public let remaining: Int
    public let area: Area

    public var description: String {
        let place = area == .options ? "" : " of \(area.rawValue) (overload)"
        guard let declaredLength else {
            return "option \(code) at offset \(offset)\(place) has no length byte; ignored"
        }
        return "option \(code) at offset \(offset)\(place) declares \(declaredLength) bytes but only \(remaining) remain; ignored"
    }
}
