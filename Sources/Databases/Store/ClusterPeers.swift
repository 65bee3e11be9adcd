import Foundation

/// A daemon of the site as it records itself in the shared store (`STORE_ENGINE = "PostgreSQL"`):
/// each one writes its record every few seconds, and reads everyone's to show its peers.
public struct PeerRecord: Codable, Sendable, Equatable {
    /// SYSTEM_NAME.
    public var name: String
    public var host: String
    /// DHCP_SERVER_IP: what identifies the daemon to clients.
    public var serverIP: String
    public var version: String
    public var generation: Int
    public var pid: Int32
    /// When it last wrote its record (seconds since the Unix epoch, by its own clock).
    public var heartbeat: Double

    public init(name: String, host: String, serverIP: String, version: String, generation: Int, pid: Int32, heartbeat: Double) {
        self.name = name
        self.host = host
        self.serverIP = serverIP
        self.version = version
        self.generation = generation
        self.pid = pid
        self.heartbeat = heartbeat
    }
}

/// The peers' records under `staticdhcpd/peers/<host>/<server address>` in the shared store.
public enum ClusterPeers {
    public static let prefix = "staticdhcpd/peers/"
    /// Records not refreshed for this long are removed by whichever daemon sees them.
    public static let forgetAfter: Double = 86_400

    public static func key(of record: PeerRecord) -> String { "\(prefix)\(record.host)/\(record.serverIP)" }

    /// Writes `record`, then returns every daemon's record (this one's included), forgetting the
    /// long-silent ones.
    public static func heartbeat(_ record: PeerRecord, store: any RemoteStore) async throws(StoreError) -> [PeerRecord] {
        let text: String
        do {
            text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        } catch {
            throw StoreError("cannot encode the peer record: \(error)")
        }
        _ = try await store.perform(.put(key(of: record), text), in: nil)
        guard case .rows(let rows) = try await store.perform(.scan(prefix: prefix, limit: 1000), in: nil) else { return [record] }
        var peers: [PeerRecord] = []
        for row in rows {
            guard let peer = try? JSONDecoder().decode(PeerRecord.self, from: Data(row.value.utf8)) else { continue }
            if record.heartbeat - peer.heartbeat > forgetAfter {
                _ = try? await store.perform(.delete(row.key), in: nil)
            } else {
                peers.append(peer)
            }
        }
        return peers
    }
}
