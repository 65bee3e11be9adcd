import Foundation
import Hummingbird

/// `/leases`: the dynamic pools' leases, searched by MAC, address or hostname, each pool's
/// utilisation, and releasing a lease. GET never changes anything; a release is a POST carrying the
/// CSRF token, and only with digest credentials configured (as reservation edits are).
struct LeasesPage: Sendable {
    let state: WebState
    let pages: DashboardPages

    /// Rows shown at most; a search narrows the rest down.
    static let shownLimit = 500

    /// A line shown above the table: the reservations page's success and error boxes.
    typealias Message = ReservationsPage.Message

    func handle(_ request: IncomingRequest) async -> Reply {
        guard let source = state.leases else {
            let element = RenderedElement(module: "core", name: "leases", body: Message.failure("This daemon has no lease store.").html)
            return await pages.single(request, element: element, status: .notFound)
        }
        guard request.method == .post else {
            return await show(request, source: source, query: request.firstQuery("q") ?? "", status: .ok)
        }
        let form = request.form
        let query = form["q"]?.first ?? ""
        guard request.formCarriesCSRFToken else {
            return await show(request, source: source, query: query, status: .forbidden,
                              message: .failure("The form expired or did not come from this dashboard; reload the page and try again."))
        }
        guard state.authenticator != nil else {
            return await show(request, source: source, query: query, status: .forbidden,
                              message: .failure("Releasing leases needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set."))
        }
        do {
            let action = form["action"]?.first ?? ""
            guard action == "release" else { throw ReservationInputError("Unknown action \"\(action)\"; expected release.") }
            let mac = try ReservationValidation.normalisedMAC(form["mac"]?.first ?? "")
            let released = try await source.release(mac: mac)
            guard !released.isEmpty else {
                return await show(request, source: source, query: query, status: .notFound,
                                  message: .failure("\(mac) holds no lease in any pool; nothing was released."))
            }
            state.logger.info("web: released \(released.map { "\($0.ip) (pool \($0.pool))" }.joined(separator: ", ")) of \(mac)")
            return await show(request, source: source, query: query, status: .ok, message: .success(Self.describe(released, of: mac.description)))
        } catch let error as UserFacingError {
            return await show(request, source: source, query: query, status: .badRequest, message: .failure(error.userMessage))
        } catch {
            state.logger.error("lease release failed: \(String(describing: error))")
            return await show(request, source: source, query: query, status: .internalServerError,
                              message: .failure("The lease store failed; see the server log."))
        }
    }

    /// `Result(catching:)` for an async body, so one failing read still lets the other be shown.
    private static func outcome<Value>(_ body: () async throws -> Value) async -> Result<Value, Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    static func describe(_ released: [PoolLease], of mac: String) -> String {
        "Released " + released.map { "\($0.ip) (pool \($0.pool))" }.joined(separator: ", ") + " of \(mac)."
    }

    private func show(
        _ request: IncomingRequest, source: any LeaseSource, query: String, status: HTTPResponse.Status, message: Message? = nil
    ) async -> Reply {
        async let usage = Self.outcome { try await source.poolUsage() }
        async let leases = Self.outcome { try await source.leases() }
        var body = message?.html ?? ""
        let canRelease = state.authenticator != nil
        if !canRelease {
            body += "<p class=\"box error\">Read-only: releasing leases needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set.</p>"
        }
        body += "<form class=\"toolbar\" method=\"get\" action=\"/leases\"><input type=\"search\" name=\"q\" value=\"\(HTML.escape(query))\""
            + " placeholder=\"MAC, address or hostname\" size=\"32\"><button type=\"submit\">Search</button></form>"
        switch await leases {
        case .success(let all):
            body += LeaseTable(csrf: request.csrfToken, now: state.now(), canRelease: canRelease)
                .render(all.filter { $0.matches(query) }, query: query, limit: Self.shownLimit)
        case .failure(let error as UserFacingError):
            body += Message.failure(error.userMessage).html
        case .failure(let error):
            state.logger.error("lease listing failed: \(String(describing: error))")
            body += Message.failure("The lease store failed; see the server log.").html
        }
        return await pages.page(request, elements: [
            PoolUsageElement(state: state).render(await usage),
            RenderedElement(module: "core", name: "leases", body: body, id: "leases-element"),
        ], status: status)
    }
}
