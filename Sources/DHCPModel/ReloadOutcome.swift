import Foundation

/// How a reload went: for the log, the dashboard and its API, and `staticdhcpd reload`.
public struct ReloadOutcome: Sendable, Codable, Equatable {
    /// When it finished.
    public var time: Date
    public var succeeded: Bool
    public var durationSeconds: Double
    /// The error text when the reload failed (shown to the operator as is).
    public var error: String?
    /// The generation serving afterwards: the new one, or the one that kept serving.
    public var generation: Int
    /// What asked for it: "SIGHUP", "web", ...
    public var trigger: String
    /// Problems that did not stop the reload (a dashboard that cannot move, ...).
    public var warnings: [String]

    public init(
        time: Date, succeeded: Bool, durationSeconds: Double, error: String? = nil,
        generation: Int = 0, trigger: String = "", warnings: [String] = []
    ) {
        self.time = time
        self.succeeded = succeeded
        self.durationSeconds = durationSeconds
        self.error = error
        self.generation = generation
        self.trigger = trigger
        self.warnings = warnings
    }
}
