import Databases
import DHCPWire
import Engine
import Foundation
import Web

/// The leases page's view of the dynamism pools: the serving generation's store, read and released
/// with `PoolLeases` (the code of `staticdhcpd leases`), and the pools' sizes from the scripts'
/// metrics handlers, where dynamism reports them (docs/SCRIPTING.md, `metricsAddHandler`).
///
/// A store of this daemon's own (`KeyValueStore`) is only touched on the engine's executor, as its
/// threading contract asks (a Lua transaction would otherwise see another thread's calls join it);
/// there only the scan, or the release's transaction, runs, and the records are decoded here. The
/// shared PostgreSQL store is called from here directly: every call is its own round trip.
public struct DaemonLeaseSource: LeaseSource {
    let snapshot: LockedWebSnapshot

    public init(snapshot: LockedWebSnapshot) {
        self.snapshot = snapshot
    }

    private func serving() throws -> (ScriptStore, DHCPEngine) {
        guard let (generation, engine) = snapshot.read().serving else { throw DaemonWebError.notServing }
        return (generation.store, engine)
    }

    public func leases() async throws -> [PoolLease] {
        let (store, engine) = try serving()
        switch store {
        case .local(let local):
            let rows = try await engine.perform { try PoolLeases.rows(of: local) }
            return PoolLeases.leases(in: rows)
        case .remote:
            return try await PoolLeases.read(from: store)
        }
    }

    public func poolUsage() async throws -> [PoolUsage] {
        PoolUsage.fromDynamismGauges(await scriptedMetrics(snapshot.read()))
    }

    public func release(mac: MAC) async throws -> [PoolLease] {
        let parsed = mac.description
        let (store, engine) = try serving()
        switch store {
        case .local(let local):
            return try await engine.perform { try PoolLeases.release(parsed, in: local) }
        case .remote:
            return try await PoolLeases.release(parsed, in: store)
        }
    }
}
