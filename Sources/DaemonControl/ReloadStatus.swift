import DHCPModel
import Foundation

/// The last reload as `<PID_FILE>.reload` holds it, with which daemon and which of its reloads it
/// was: `staticdhcpd reload` waits for a new one. (The outcome's time alone is not enough: the
/// file keeps it to the second.)
public struct ReloadStatus: Codable, Sendable, Equatable {
    public var outcome: ReloadOutcome
    public var pid: Int32
    /// Which of the daemon's reloads it was: 1, 2, ...
    public var sequence: Int

    public var identity: String { "\(pid)/\(sequence)/\(outcome.time.timeIntervalSince1970)" }
}

/// `<PID_FILE>.reload`: the outcome of the last reload, which `staticdhcpd reload` waits for.
public enum ReloadStatusFile {
    public static func path(pidFile: String) -> String { pidFile + ".reload" }

    /// Records `outcome`, reload number `sequence` of daemon `pid`, beside `pidFile`.
    public static func write(_ outcome: ReloadOutcome, pid: Int32, sequence: Int, pidFile: String) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(ReloadStatus(outcome: outcome, pid: pid, sequence: sequence)) else { return }
        try? data.write(to: URL(fileURLWithPath: path(pidFile: pidFile)), options: .atomic)
    }

    public static func read(pidFile: String) -> ReloadStatus? {
        guard let data = FileManager.default.contents(atPath: path(pidFile: pidFile)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(ReloadStatus.self, from: data)
    }
}
