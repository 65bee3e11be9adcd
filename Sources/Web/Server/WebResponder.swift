import Foundation
import HTTPTypes
import Hummingbird

/// The whole HTTP surface: routing, authentication, body limits, rendering, and the headers every
/// response carries. One responder instead of Hummingbird's router because script methods are
/// registered and removed at run time, and because 405 needs to know every route's methods.
public struct WebResponder: HTTPResponder {
    public typealias Context = WebRequestContext

    let state: WebState

    /// Where a path leads.
    enum Route {
        case dashboard, stylesheet, javascript, faviconICO, faviconSVG, reinitialise, reservationsPage, leasesPage, explainPage
        case apiStatus, apiStatistics, apiActivity, apiClients, apiLog, apiReload, apiReservations(mac: String?)
        case apiSubnets(subnet: String?)
        case apiLeases(mac: String?), apiPools
        case metrics
        case script(WebMethodRegistration)

        /// A script method registered `public`: anyone may use it, from anywhere.
        var isPublicScript: Bool {
            if case .script(let method) = self { return method.isPublic }
            return false
        }

        var allowedMethods: [HTTPRequest.Method] {
            switch self {
            case .reinitialise, .reservationsPage, .leasesPage, .explainPage, .script: return [.get, .head, .post]
            case .apiReload: return [.post]
            case .apiReservations(mac: nil): return [.get, .head, .post]
            case .apiReservations: return [.get, .head, .put, .delete]
            case .apiSubnets(subnet: nil): return [.get, .head, .post]
            case .apiSubnets: return [.get, .head, .put, .delete]
            case .apiLeases(mac: nil): return [.get, .head]
            case .apiLeases: return [.delete]
            default: return [.get, .head]
            }
        }
    }

    public func respond(to request: Request, context: WebRequestContext) async throws -> Response {
        let reply: Reply
        let loopback = context.peerAddress.map(Loopback.contains) ?? state.addresslessPeerIsLoopback
        do {
            reply = try await handle(request, fromLoopback: loopback)
        } catch {
            state.logger.error("web request \(request.method) \(request.uri.path) failed: \(String(describing: error))")
            reply = .text("Internal server error\n", status: .internalServerError)
        }
        return finish(reply, method: request.method)
    }

    func route(for path: String, registrations: WebRegistrations) -> Route? {
        let configuration = state.configuration
        switch path {
        case "/": return .dashboard
        case "/css" where configuration.headerCSS: return .stylesheet
        case "/javascript": return .javascript
        case "/favicon.ico" where configuration.headerFavicon: return .faviconICO
        case "/favicon.svg" where configuration.headerFavicon: return .faviconSVG
        case reinitialisePath where configuration.reinitialiseEnabled: return .reinitialise
        case "/reservations": return .reservationsPage
        case "/leases": return .leasesPage
        case "/explain" where state.explainer != nil: return .explainPage
        case "/api/status": return .apiStatus
        case "/api/statistics": return .apiStatistics
        case "/api/activity": return .apiActivity
        case "/api/clients": return .apiClients
        case "/api/log": return .apiLog
        case "/api/reload": return .apiReload
        case "/api/reservations": return .apiReservations(mac: nil)
        case "/api/subnets": return .apiSubnets(subnet: nil)
        case "/api/leases": return .apiLeases(mac: nil)
        case "/api/pools": return .apiPools
        case "/metrics": return .metrics
        default: break
        }
        if path.hasPrefix("/api/reservations/") {
            let mac = String(path.dropFirst("/api/reservations/".count))
            guard !mac.isEmpty, !mac.contains("/") else { return nil }
            return .apiReservations(mac: mac.removingPercentEncoding ?? mac)
        }
        if path.hasPrefix("/api/leases/") {
            let mac = String(path.dropFirst("/api/leases/".count))
            guard !mac.isEmpty, !mac.contains("/") else { return nil }
            return .apiLeases(mac: mac.removingPercentEncoding ?? mac)
        }
        if path.hasPrefix("/api/subnets/") {
            // Labels usually contain a slash (192.0.2.0/24): everything after the prefix is the label.
            let label = String(path.dropFirst("/api/subnets/".count))
            guard !label.isEmpty else { return nil }
            return .apiSubnets(subnet: label.removingPercentEncoding ?? label)
        }
        return registrations.methods.first { $0.path == path }.map(Route.script)
    }

    /// Whether `route` needs authentication (README, "Web dashboard and API").
    /// Static resources never do. The reinitialise page always does when credentials are set: its
    /// form carries a CSRF token, which only a signed-in user gets. A script method follows
    /// WEB_DASHBOARD_SECURE unless registered `secure` (always) or `public` (never).
    func isSecure(_ route: Route) -> Bool {
        let configuration = state.configuration
        switch route {
        case .stylesheet, .javascript, .faviconICO, .faviconSVG: return false
        case .dashboard, .apiStatus, .apiStatistics, .apiActivity, .apiClients, .apiLog, .metrics:
            return configuration.dashboardSecure
        case .reinitialise: return true
        case .apiReload: return configuration.reinitialiseSecure || configuration.dashboardSecure
        // Leases name clients and can be released: like reservations, whenever credentials are set.
        case .reservationsPage, .apiReservations, .apiSubnets, .leasesPage, .apiLeases, .apiPools: return true
        // Explain runs conf.lua and reads the database: whenever credentials are set.
        case .explainPage: return true
        case .script(let method): return method.secure || (configuration.dashboardSecure && !method.isPublic)
        }
    }

    /// Whether `method` on `route` may change state: what needs a CSRF token, and what a dashboard
    /// without credentials takes only from loopback.
    func changesState(_ route: Route, _ method: HTTPRequest.Method) -> Bool {
        switch route {
        case .stylesheet, .javascript, .faviconICO, .faviconSVG, .dashboard, .metrics: return false
        default: return method == .post || method == .put || method == .delete
        }
    }

    /// Whether `method` on `route` asks for the credentials although the route alone would not: a
    /// POST to a script method needs a CSRF token, which with credentials set only a signed-in user
    /// has, so the visitor is asked to sign in rather than refused. A `public` or `json_api` method
    /// is left to its registration.
    func needsSignIn(_ route: Route, _ method: HTTPRequest.Method) -> Bool {
        if isSecure(route) { return true }
        guard case .script(let registration) = route, changesState(route, method) else { return false }
        return !registration.isPublic && !registration.jsonAPI
    }

    func handle(_ request: Request, fromLoopback: Bool) async throws -> Reply {
        let path = request.uri.path.isEmpty ? "/" : request.uri.path
        let isAPI = path.hasPrefix("/api/")
        let registrations = await state.registrations()
        guard let route = route(for: path, registrations: registrations) else {
            state.logger.debug("web: no route for \(path)")
            return isAPI ? .jsonError("no such endpoint", status: .notFound) : notFound(path)
        }
        guard route.allowedMethods.contains(request.method) else {
            var reply = isAPI ? Reply.jsonError("method \(request.method) not allowed", status: .methodNotAllowed)
                : .text("405 Method Not Allowed\n", status: .methodNotAllowed)
            reply.headers.append(("Allow", route.allowedMethods.map(\.rawValue).joined(separator: ", ")))
            return reply
        }
        let target = request.head.path ?? path
        // Authenticate before reading any body.
        var visitor = Visitor.anonymous(loopback: fromLoopback)
        if let authenticator = state.authenticator {
            let secure = needsSignIn(route, request.method)
            let authorization = request.headers[.authorization]
            // A route anyone may read still notes who sent valid credentials: a signed-in user
            // gets a CSRF token there, an anonymous visitor does not.
            if secure || authorization != nil {
                let verdict = await authenticator.verify(authorization: authorization, method: request.method.rawValue, uri: target)
                switch verdict {
                case .authenticated: visitor.username = state.configuration.digestUsername
                case .challenge(let stale) where secure:
                    var reply = isAPI ? Reply.jsonError("authentication required", status: .unauthorized)
                        : .text("401 Unauthorized\n", status: .unauthorized)
                    for challenge in await authenticator.challenges(stale: stale) { reply.headers.append(("WWW-Authenticate", challenge)) }
                    return reply
                case .challenge: break
                }
            }
        } else if changesState(route, request.method), !state.mayChangeStateWithoutCredentials(visitor), !route.isPublicScript {
            return WriteRules.refusedWithoutCredentials(isAPI: isAPI)
        }
        let incoming: IncomingRequest
        switch await read(request, path: path, target: target, visitor: visitor) {
        case .success(let read): incoming = read
        case .failure(let refusal): return refusal.reply
        }
        if case .script(let method) = route, changesState(route, request.method),
           let refusal = WriteRules.scriptMethodRefusal(method, incoming) {
            return refusal
        }
        return await dispatch(route, incoming)
    }

    private func dispatch(_ route: Route, _ request: IncomingRequest) async -> Reply {
        let pages = DashboardPages(state: state)
        let api = APIRoutes(state: state)
        let cacheable = !state.configuration.debug
        switch route {
        case .dashboard: return await pages.dashboard(request)
        case .stylesheet:
            return Reply(status: .ok, contentType: "text/css; charset=utf-8", body: Array(Assets.stylesheet(logMaxHeight: state.configuration.logMaxHeight).utf8), cacheable: cacheable)
        case .javascript:
            return Reply(status: .ok, contentType: "text/javascript; charset=utf-8", body: Array(Assets.javascript.utf8), cacheable: cacheable)
        case .faviconICO: return Reply(status: .ok, contentType: "image/x-icon", body: Assets.faviconICO, cacheable: cacheable)
        case .faviconSVG: return Reply(status: .ok, contentType: "image/svg+xml", body: Array(Assets.faviconSVG.utf8), cacheable: cacheable)
        case .reinitialise: return await pages.reinitialise(request)
        case .reservationsPage: return await ReservationsPage(state: state, pages: pages, csrfToken: request.csrfToken).handle(request)
        case .leasesPage: return await LeasesPage(state: state, pages: pages).handle(request)
        case .explainPage: return await ExplainPage(state: state, pages: pages).handle(request)
        case .apiStatus: return await api.status()
        case .apiStatistics: return await api.statistics()
        case .apiActivity: return await api.activity()
        case .apiClients: return await api.clients()
        case .apiLog: return await api.log()
        case .apiReload: return await api.reload(request)
        case .apiReservations(let mac): return await api.reservations(request, mac: mac)
        case .apiSubnets(let subnet): return await api.subnets(request, subnet: subnet)
        case .apiLeases(let mac): return await api.leases(request, mac: mac)
        case .apiPools: return await api.pools()
        case .metrics: return await api.metrics()
        case .script(let method): return await pages.scriptMethod(method, request: request)
        }
    }

    struct Refusal: Error { let reply: Reply }

    /// Decodes the query and headers and reads the body within the size and time limits.
    private func read(_ request: Request, path: String, target: String, visitor: Visitor) async -> Result<IncomingRequest, Refusal> {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        var incoming = IncomingRequest(
            method: request.method, path: path, target: target, query: FormDecoding.decode(request.uri.query ?? ""),
            headers: headers, mimetype: nil, body: nil, visitor: visitor, csrfToken: state.csrfToken(for: visitor))
        guard request.method == .post || request.method == .put else { return .success(incoming) }

        let limit = state.configuration.maxBodyBytes
        if let declared = headers["content-length"].flatMap(Int.init), declared > limit {
            return .failure(Refusal(reply: .text("413 Content Too Large: at most \(limit) bytes\n", status: .contentTooLarge)))
        }
        let body = request.body
        do {
            let buffer = try await withDeadline(state.configuration.bodyReadTimeout) {
                try await body.collect(upTo: limit)
            }
            incoming.body = Array(buffer.readableBytesView)
        } catch is DeadlineExceeded {
            return .failure(Refusal(reply: .text("408 Request Timeout\n", status: .requestTimeout)))
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return .failure(Refusal(reply: .text("413 Content Too Large: at most \(limit) bytes\n", status: .contentTooLarge)))
        } catch {
            return .failure(Refusal(reply: .text("400 Bad Request: the body could not be read\n", status: .badRequest)))
        }
        incoming.mimetype = headers["content-type"]
            .map { $0.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased() }
        return .success(incoming)
    }

    private func notFound(_ path: String) -> Reply {
        let html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title><link rel=\"stylesheet\" href=\"/css\"></head>"
            + "<body><main id=\"main\"><section class=\"element\"><h1>404 · not found</h1><div class=\"body\"><p>Nothing is served at <code>\(HTML.escape(path))</code>.</p><p><a href=\"/\">Back to the dashboard</a></p></div></section></main></body></html>\n"
        return .html(html, status: .notFound)
    }

    /// Adds the headers every response carries and builds the Hummingbird response.
    func finish(_ reply: Reply, method: HTTPRequest.Method) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = reply.contentType
        fields.append(HTTPField(name: .lastModified, value: HTTPDate.format(state.now())))
        if reply.cacheable {
            fields[.cacheControl] = "max-age=3600"
        } else {
            fields[.cacheControl] = "max-age=0, no-cache, must-revalidate, proxy-revalidate"
            fields[.expires] = "Tue, 03 Jul 2001 06:00:00 GMT"
        }
        fields[.contentSecurityPolicy] = state.configuration.contentSecurityPolicy
        fields[.xContentTypeOptions] = "nosniff"
        fields[.xFrameOptions] = "DENY"
        fields[.referrerPolicy] = "no-referrer"
        for (name, value) in reply.headers {
            guard let fieldName = HTTPField.Name(name) else { continue }
            if fieldName == .wwwAuthenticate || fieldName == .allow {
                fields.append(HTTPField(name: fieldName, value: value))
            } else {
                fields[fieldName] = value
            }
        }
        let bytes = method == .head ? [] : reply.body
        fields[.contentLength] = String(reply.body.count)
        return Response(status: reply.status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

/// RFC 9110 IMF-fixdate.
enum HTTPDate {
    static func format(_ date: Date) -> String { TimeText.httpDate(date) }
}
