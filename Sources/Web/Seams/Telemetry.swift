import DHCPModel
import DHCPWire
import Foundation
import Synchronization

/// What the dashboard shows about recent traffic: the latest event per MAC and packets per
/// method in 10-second buckets over the last hour. Fed with every statistics record on the
/// engine's thread; read by the web layer from other threads, hence the lock (held only for a few
/// assignments).
public final class Telemetry: Sendable {
    struct Bucket: Sendable {
        var start: Int
        var counts: [String: Int]
    }

    static let bucketSeconds = 10
    static let bucketCount = 360
    private let maximumClients: Int

    private struct State {
        var clients: [MAC: RecentClient] = [:]
        var buckets: [Bucket] = []
    }

    private let state = Mutex(State())

    public init(maximumClients: Int = 1000) {
        self.maximumClients = maximumClients
    }

    public func record(_ statistics: Statistics, at now: Date = Date()) {
        let bucketStart = Int(now.timeIntervalSince1970) / Telemetry.bucketSeconds * Telemetry.bucketSeconds
        let method = statistics.method ?? "NON-DHCP"
        state.withLock { state in
            if state.buckets.last?.start != bucketStart {
                state.buckets.append(Bucket(start: bucketStart, counts: [:]))
                if state.buckets.count > Telemetry.bucketCount { state.buckets.removeFirst(state.buckets.count - Telemetry.bucketCount) }
            }
            state.buckets[state.buckets.count - 1].counts[method, default: 0] += 1
            guard let mac = statistics.mac else { return }
            state.clients[mac] = RecentClient(
                mac: mac.description, method: method, ip: statistics.ip?.description, subnet: statistics.subnet,
                serial: statistics.serial, port: Int(statistics.port), time: now, outcome: statistics.summary
            )
            if state.clients.count > maximumClients + maximumClients / 2 {
                // Back down to the maximum in one go, sorting only (time, MAC) pairs: with perfdhcp's
                // thousands of clients this runs once per `maximumClients / 2` new MACs, not per packet.
                let byAge = state.clients.map { ($0.value.time, $0.key) }.sorted { $0.0 < $1.0 }
                for (_, mac) in byAge.prefix(state.clients.count - maximumClients) { state.clients[mac] = nil }
            }
        }
    }

    /// Latest event per MAC, newest first.
    public func recentClients(limit: Int = 100) -> [RecentClient] {
        // Copy under the lock, sort outside it: the packet path takes the same lock.
        let events = state.withLock { Array($0.clients.values) }
        return Array(events.sorted { $0.time > $1.time }.prefix(limit))
    }

    /// Packets per second by method over the last hour, one point per bucket, the last point
    /// being the bucket `now` falls in.
    public func activity(now: Date = Date()) -> ActivitySeries {
        let interval = Telemetry.bucketSeconds
        let points = Telemetry.bucketCount
        let current = Int(now.timeIntervalSince1970) / interval * interval
        let first = current - (points - 1) * interval
        let buckets = state.withLock { $0.buckets.filter { $0.start >= first } }
        var series: [String: [Double]] = [:]
        for bucket in buckets where bucket.start <= current {
            let index = (bucket.start - first) / interval
            for (method, count) in bucket.counts {
                series[method, default: [Double](repeating: 0, count: points)][index] = Double(count) / Double(interval)
            }
        }
        return ActivitySeries(intervalSeconds: interval, end: Date(timeIntervalSince1970: TimeInterval(current + interval)), series: series)
    }
}
