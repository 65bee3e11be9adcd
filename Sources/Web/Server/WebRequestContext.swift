import Hummingbird
import NIOCore

/// Hummingbird's basic request context plus the peer's address: whether a visitor is on loopback
/// decides what it may change on a dashboard without credentials (README, web section).
public struct WebRequestContext: Hummingbird.RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address as text; nil for a request that came through no socket.
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress?.ipAddress
    }
}
