import DHCPWire

/// The settings the engine's per-method rules read (docs/PROTOCOL.md §1 and §2).
/// The executable builds it from conf.lua's validated settings.
public struct EngineConfiguration: Sendable, Equatable {
    public var serverIP: IPv4
    public var serverPort: UInt16
    public var authoritative: Bool
    public var nakRenewals: Bool
    public var allowLocalDHCP: Bool
    public var allowDHCPRelays: Bool
    /// Empty means any relay.
    public var allowedDHCPRelays: Set<IPv4>
    public var enableRapidCommit: Bool
    public var abuse: AbuseGuard.Configuration
    /// SCHED_FIFO priority of the engine's thread (1-99); 0 = ordinary scheduling. Applied by the
    /// thread's owner (DHCPService), not by the engine.
    public var realtimePriority: Int

    public init(
        serverIP: IPv4, serverPort: UInt16 = 67,
        authoritative: Bool = false, nakRenewals: Bool = false,
        allowLocalDHCP: Bool = true, allowDHCPRelays: Bool = false, allowedDHCPRelays: Set<IPv4> = [],
        enableRapidCommit: Bool = true, abuse: AbuseGuard.Configuration = .init(), realtimePriority: Int = 0
    ) {
        self.serverIP = serverIP
        self.serverPort = serverPort
        self.authoritative = authoritative
        self.nakRenewals = nakRenewals
        self.allowLocalDHCP = allowLocalDHCP
        self.allowDHCPRelays = allowDHCPRelays
        self.allowedDHCPRelays = allowedDHCPRelays
        self.enableRapidCommit = enableRapidCommit
        self.abuse = abuse
        self.realtimePriority = realtimePriority
    }
}
