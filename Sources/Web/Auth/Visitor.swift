/// Who sent a request, as far as the dashboard can tell: the basis of every read and write rule
/// (README, "Web dashboard and API").
struct Visitor: Sendable, Equatable {
    /// The digest username the request proved; nil when it proved none.
    var username: String?
    /// Whether the TCP peer is a loopback address (the operator on the server itself, or a
    /// reverse proxy there, which then answers for whom it lets through).
    var isLoopback: Bool

    static func anonymous(loopback: Bool) -> Visitor { Visitor(username: nil, isLoopback: loopback) }
}

/// Loopback addresses, as text: 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8.
enum Loopback {
    static func contains(_ address: String) -> Bool {
        let lowered = address.lowercased()
        if lowered == "::1" || lowered == "localhost" { return true }
        let ipv4 = lowered.hasPrefix("::ffff:") ? String(lowered.dropFirst(7)) : lowered
        let parts = ipv4.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
