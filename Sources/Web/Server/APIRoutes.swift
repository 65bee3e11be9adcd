import DHCPWire
import Foundation
import Hummingbird

/// JSON under /api/ and Prometheus text at /metrics.
struct APIRoutes: Sendable {
    let state: WebState

    struct StatusDocument: Encodable {
        var systemName: String
        var version: String
        var startTime: Date
        var uptimeSeconds: Int
        var configGeneration: Int
        var lastReload: ReloadOutcome?
        var sockets: [String]
        var databaseEngine: String
        var cacheHitRate: Double?
        var store: String?
        /// The daemons sharing the store, with how long ago each was heard from.
        var peers: [PeerDocument]
    }

    /// A record of `/api/log`: its level as the dashboard names it.
    struct LogDocument: Encodable {
        var time: Date
        var level: String
        var message: String
    }

    /// A peer as `StatusSnapshot.Peer` encodes itself, with `secondsSinceHeard` beside its fields.
    struct PeerDocument: Encodable {
        var peer: StatusSnapshot.Peer
        var secondsSinceHeard: Double

        private enum CodingKeys: String, CodingKey {
            case secondsSinceHeard
        }

        func encode(to encoder: any Encoder) throws {
            try peer.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(secondsSinceHeard, forKey: .secondsSinceHeard)
        }
    }

    func status() async -> Reply {
        let status = await state.source.status()
        return .json(StatusDocument(
            systemName: state.configuration.systemName, version: state.configuration.version, startTime: status.startTime,
            uptimeSeconds: max(0, Int(state.now().timeIntervalSince(status.startTime))), configGeneration: status.configGeneration,
            lastReload: status.lastReload, sockets: status.sockets, databaseEngine: status.databaseEngine,
            cacheHitRate: status.cacheHitRate, store: status.store,
            peers: status.peers.map { PeerDocument(peer: $0, secondsSinceHeard: max(0, state.now().timeIntervalSince($0.lastHeard))) }))
    }

    func statistics() async -> Reply { .json(await state.source.metrics()) }
    func activity() async -> Reply { .json(await state.source.activity()) }
    func clients() async -> Reply { .json(await state.source.recentClients()) }
    func log() async -> Reply {
        .json(await state.source.logRecords().map { LogDocument(time: $0.time, level: LogLevel($0.level).dashboardName, message: $0.message) })
    }

    func metrics() async -> Reply {
        async let metrics = state.source.metrics()
        async let status = state.source.status()
        let text = MetricsExposition.render(await metrics, status: await status, now: state.now().timeIntervalSince1970)
        return Reply(status: .ok, contentType: MetricsExposition.contentType, body: Array(text.utf8))
    }

    func reload(_ request: IncomingRequest) async -> Reply {
        guard passesCSRF(request) else { return csrfRefusal }
        let outcome = await state.source.reload()
        return .json(outcome, status: outcome.succeeded ? .ok : .internalServerError)
    }

    /// Cross-site forms can send neither a JSON body nor a custom header, so either one proves the
    /// request did not come from a forged form.
    func passesCSRF(_ request: IncomingRequest) -> Bool {
        request.mimetype == "application/json" || request.headerCarriesCSRFToken
    }

    var csrfRefusal: Reply {
        .jsonError("send the request with Content-Type: application/json or the X-CSRF-Token header", status: .forbidden)
    }

    // MARK: Reservations

    /// `/api/reservations` and `/api/reservations/<mac>`.
    func reservations(_ request: IncomingRequest, mac: String?) async -> Reply {
        guard let store = state.reservations else {
            return .jsonError("reservations can be edited only with an SQL database engine", status: .notFound)
        }
        do {
            switch (request.method, mac) {
            case (.get, nil), (.head, nil):
                let limit = request.firstQuery("limit").flatMap(Int.init) ?? 200
                guard (1...10_000).contains(limit) else { return .jsonError("limit must be between 1 and 10000", status: .badRequest) }
                return .json(try await store.searchReservations(matching: request.firstQuery("q") ?? "", limit: limit))
            case (.get, let mac?), (.head, let mac?):
                guard let found = try await store.reservation(mac: try Self.pathMAC(mac)) else {
                    return .jsonError("no reservation for \(mac)", status: .notFound)
                }
                return .json(found)
            case (.post, nil):
                guard passesCSRF(request) else { return csrfRefusal }
                guard state.authenticator != nil else { return writesNeedAuthentication }
                let reservation = try decode(ReservationInput.self, from: request, what: Self.reservationFields).validated()
                try await store.addReservation(reservation)
                return .json(reservation, status: .created)
            case (.put, let mac?):
                guard passesCSRF(request) else { return csrfRefusal }
                guard state.authenticator != nil else { return writesNeedAuthentication }
                let reservation = try decode(ReservationInput.self, from: request, what: Self.reservationFields).validated()
                let old = try Self.pathMAC(mac, detail: " (12 hex digits expected, e.g. 00:11:22:33:44:55)")
                try await store.updateReservation(mac: old, with: reservation)
                return .json(reservation)
            case (.delete, let mac?):
                // No CSRF check: a form cannot send DELETE, and a cross-site fetch of it needs a CORS
                // preflight this server never grants.
                guard state.authenticator != nil else { return writesNeedAuthentication }
                guard try await store.removeReservation(mac: try Self.pathMAC(mac)) else {
                    return .jsonError("no reservation for \(mac)", status: .notFound)
                }
                return Reply(status: .noContent, contentType: "application/json", body: [])
            default:
                return .jsonError("method not allowed", status: .methodNotAllowed)
            }
        } catch {
            return storeFailure(error, in: "reservation API", store: "reservation store")
        }
    }

    /// A store's error as the API answers it: the operator's own message for a `UserFacingError`,
    /// else a generic 500 whose details go to the log only (they may name internals).
    func storeFailure(_ error: any Error, in api: String, store: String) -> Reply {
        if let error = error as? UserFacingError { return .jsonError(error.userMessage, status: .badRequest) }
        state.logger.error("\(api) failed: \(String(describing: error))")
        return .jsonError("the \(store) failed; see the server log", status: .internalServerError)
    }

    var writesNeedAuthentication: Reply {
        .jsonError("editing reservations and subnets needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set", status: .forbidden)
    }

    /// A reservation as the API is sent it, before `ReservationValidation` checks it.
    struct ReservationInput: Decodable {
        var mac: String
        var ip: String
        var hostname: String?
        var subnet: String
        var serial: Int

        func validated() throws -> Reservation {
            try ReservationValidation.validated(mac: mac, ip: ip, hostname: hostname, subnet: subnet, serial: serial)
        }
    }

    /// The MAC a reservation URL names.
    static func pathMAC(_ text: String, detail: String = "") throws -> MAC {
        guard let mac = MAC(text) else { throw ReservationInputError("'\(text)' is not a MAC address\(detail)") }
        return mac
    }

    static let reservationFields = "a reservation object (mac, ip, hostname, subnet, serial)"

    func decode<Value: Decodable>(_ type: Value.Type, from request: IncomingRequest, what: String) throws -> Value {
        guard request.mimetype == "application/json", let body = request.body, !body.isEmpty else {
            throw ReservationInputError("send a JSON object with Content-Type: application/json")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw ReservationInputError("the JSON body is not \(what)")
        }
    }
}
