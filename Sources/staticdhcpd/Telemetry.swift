import DHCPWire
import Engine
import Foundation
import Synchronization

/// What the dashboard shows about recent traffic: the latest event per MAC and packets per
/// method in 10-second buckets over the last hour. Fed with every statistics record; read by
/// the web layer from other threads, hence the lock (held only for a few assignments).
final class Telemetry: Sendable {
    struct ClientEvent: Sendable {
        var mac: MAC
        var method: String
        var ip: IPv4?
        var subnet: String?
        var serial: Int?
        var port: UInt16
        var time: Date
        var processed: Bool
        /// The reply sent, or why there was none.
        var outcome: String
    }

    struct Bucket: Sendable {
        var start: Int
        var counts: [String: Int]
    }

    static let bucketSeconds = 10
    static let bucketCount = 360
    private let maximumClients: Int

    private struct State {
        var clients: [MAC: ClientEvent] = [:]
        var buckets: [Bucket] = []
    }

    private let state = Mutex(State())

    init(maximumClients: Int = 1000) {
        self.maximumClients = maximumClients
    }

    func record(_ statistics: Statistics) {
        let now = Date()
        let bucketStart = Int(now.timeIntervalSince1970) / Telemetry.bucketSeconds * Telemetry.bucketSeconds
        let method = statistics.method ?? "NON-DHCP"
        state.withLock { state in
            if state.buckets.last?.start != bucketStart {
                state.buckets.append(Bucket(start: bucketStart, counts: [:]))
                if state.buckets.count > Telemetry.bucketCount { state.buckets.removeFirst(state.buckets.count - Telemetry.bucketCount) }
            }
            state.buckets[state.buckets.count - 1].counts[method, default: 0] += 1
            guard let mac = statistics.mac else { return }
            state.clients[mac] = ClientEvent(
                mac: mac, method: method, ip: statistics.ip, subnet: statistics.subnet, serial: statistics.serial,
                port: statistics.port, time: now, processed: statistics.processed, outcome: statistics.summary
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
    func recentClients(limit: Int = 100) -> [ClientEvent] {
        // Copy under the lock, sort outside it: the packet path takes the same lock.
        let events = state.withLock { Array($0.clients.values) }
        return Array(events.sorted { $0.time > $1.time }.prefix(limit))
    }

    /// Buckets of the last hour, oldest first.
    func activity() -> [Bucket] {
        let horizon = Int(Date().timeIntervalSince1970) - Telemetry.bucketSeconds * Telemetry.bucketCount
        return state.withLock { $0.buckets.filter { $0.start > horizon } }
    }
}
