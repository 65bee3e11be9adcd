/// Running totals for the dashboard and /metrics. Plain counters, updated by the engine's actor
/// and read by the web layer from the daemon's snapshot.
public struct EngineCounters: Sendable, Equatable {
    /// Packets by method string and outcome.
    public var packets: [String: [Statistics.Outcome: Int]] = [:]
    public var repliesSent = 0
    public var sendErrors = 0
    public var malformed = 0
    /// Datagrams decoded without a trailing option that the datagram's end cut off.
    public var truncatedOptions = 0
    public var hookErrors = 0
    public var databaseErrors = 0
    /// Seconds spent in database lookups and how many there were.
    public var databaseTime = 0.0
    public var databaseLookups = 0
    /// REQUESTs that took the answer remembered from their OFFER instead of a lookup (`OfferMemo`).
    public var rememberedOffers = 0
    /// Seconds spent in hooks, and how many hook calls there were (a suspended hook's resumptions
    /// are not counted again).
    public var hookTime = 0.0
    public var hookCalls = 0
    /// MACs the abuse guard forgot early because its tables were full (`AbuseGuard.evictions`).
    public var abuseEvictions = 0

    public init() {}
}
