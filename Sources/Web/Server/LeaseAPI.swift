import Foundation
import Hummingbird

/// `/api/leases?q=&limit=`, `DELETE /api/leases/<mac>` (release) and `/api/pools` (utilisation).
/// Same rules as the reservations API: reads for anyone allowed to see the page, a release only
/// with digest credentials configured.
extension APIRoutes {
    func leases(_ request: IncomingRequest, mac: String?) async -> Reply {
        guard let source = state.leases else { return .jsonError("this daemon has no lease store", status: .notFound) }
        do {
            switch (request.method, mac) {
            case (.get, nil), (.head, nil):
                let limit = request.firstQuery("limit").flatMap(Int.init) ?? 200
                guard (1...10_000).contains(limit) else { return .jsonError("limit must be between 1 and 10000", status: .badRequest) }
                let query = request.firstQuery("q") ?? ""
                return .json(Array(try await source.leases().filter { $0.matches(query) }.prefix(limit)))
            case (.delete, let mac?):
                // No CSRF check, as for reservations: a form cannot send DELETE, and a cross-site
                // fetch of it needs a CORS preflight this server never grants.
                guard state.authenticator != nil else {
                    return .jsonError("releasing leases needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set", status: .forbidden)
                }
                let normalised = try ReservationValidation.normalisedMAC(mac)
                let released = try await source.release(mac: normalised)
                guard !released.isEmpty else { return .jsonError("\(normalised) holds no lease in any pool", status: .notFound) }
                state.logger.info("web API: released \(released.map { "\($0.ip) (pool \($0.pool))" }.joined(separator: ", ")) of \(normalised)")
                return .json(released)
            default:
                return .jsonError("method not allowed", status: .methodNotAllowed)
            }
        } catch {
            return storeFailure(error, in: "lease API", store: "lease store")
        }
    }

    func pools() async -> Reply {
        guard let source = state.leases else { return .jsonError("this daemon has no lease store", status: .notFound) }
        do {
            return .json(try await source.poolUsage())
        } catch {
            state.logger.error("pool usage API failed: \(String(describing: error))")
            return .jsonError("the pools' counts could not be read; see the server log", status: .internalServerError)
        }
    }
}
