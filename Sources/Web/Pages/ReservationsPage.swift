import Foundation
import Hummingbird

/// `/reservations`: search, add, edit and remove reservations from the browser.
/// GET never changes anything; every change is a POST carrying the CSRF token.
struct ReservationsPage: Sendable {
    let state: WebState
    let pages: DashboardPages

    func handle(_ request: IncomingRequest) async -> Reply {
        guard let store = state.reservations else {
            return await show(request, message: .failure("Reservations can be edited only with an SQL database engine."), status: .notFound, store: nil)
        }
        guard request.method == .post else { return await show(request, message: nil, status: .ok, store: store) }
        let form = request.form
        guard state.csrf.matches(form["csrf"]?.first) else {
            return await show(request, message: .failure("The form expired or did not come from this dashboard; reload the page and try again."), status: .forbidden, store: store)
        }
        guard state.authenticator != nil else {
            return await show(request, message: .failure("Editing reservations needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set."), status: .forbidden, store: store)
        }
        let action = form["action"]?.first ?? ""
        do {
            switch action {
            case "add":
                let reservation = try ReservationValidation.validated(try reservation(from: form))
                try await store.addReservation(reservation)
                return await show(request, message: .success("Added \(reservation.mac) → \(reservation.ip)."), status: .ok, store: store)
            case "update":
                let original = try ReservationValidation.normalisedMAC(form["original"]?.first ?? "")
                let reservation = try ReservationValidation.validated(try reservation(from: form))
                try await store.updateReservation(mac: original, with: reservation)
                return await show(request, message: .success("Updated \(reservation.mac) → \(reservation.ip)."), status: .ok, store: store)
            case "remove":
                let mac = try ReservationValidation.normalisedMAC(form["mac"]?.first ?? "")
                guard try await store.removeReservation(mac: mac) else {
                    throw ReservationInputError("There is no reservation for \(mac).")
                }
                return await show(request, message: .success("Removed \(mac)."), status: .ok, store: store)
            default:
                throw ReservationInputError("Unknown action \"\(action)\"; expected add, update or remove.")
            }
        } catch let error as UserFacingError {
            return await show(request, message: .failure(error.userMessage), status: .badRequest, store: store, keep: form)
        } catch {
            state.logger.error("reservation change failed: \(String(describing: error))")
            return await show(request, message: .failure("The reservation store failed; see the server log."), status: .internalServerError, store: store, keep: form)
        }
    }

    private func reservation(from form: [String: [String]]) throws -> Reservation {
        func field(_ name: String) -> String { form[name]?.first?.trimmingCharacters(in: .whitespaces) ?? "" }
        guard let serial = Int(field("serial")) else {
            throw ReservationInputError("serial \"\(field("serial"))\" is not a whole number")
        }
        return Reservation(mac: field("mac"), ip: field("ip"), hostname: field("hostname"), subnet: field("subnet"), serial: serial)
    }

    private enum Message {
        case success(String)
        case failure(String)
    }

    private func show(
        _ request: IncomingRequest, message: Message?, status: HTTPResponse.Status, store: (any ReservationStore)?,
        keep form: [String: [String]] = [:]
    ) async -> Reply {
        var body = ""
        switch message {
        case .success(let text): body += "<p class=\"box success\">\(HTML.escape(text))</p>"
        case .failure(let text): body += "<p class=\"box error\">\(HTML.escape(text))</p>"
        case nil: break
        }
        guard let store else {
            return await pages.single(request, element: RenderedElement(module: "core", name: "reservations", body: body), status: status)
        }
        if state.authenticator == nil {
            body += "<p class=\"box error\">Read-only: editing reservations needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set.</p>"
        }
        let query = request.method == .get ? (request.firstQuery("q") ?? "") : ""
        body += "<form class=\"toolbar\" method=\"get\" action=\"/reservations\"><input type=\"search\" name=\"q\" value=\"\(HTML.escape(query))\" placeholder=\"MAC, IP, hostname or subnet\" size=\"32\"><button type=\"submit\">Search</button></form>"

        var editing: Reservation?
        if request.method == .get, let mac = request.firstQuery("edit") {
            editing = try? await store.reservation(mac: (try? ReservationValidation.normalisedMAC(mac)) ?? mac)
        }
        body += editor(editing: editing, keep: form)

        do {
            let found = try await store.searchReservations(matching: query, limit: 500)
            body += table(found)
        } catch let error as UserFacingError {
            body += "<p class=\"box error\">\(HTML.escape(error.userMessage))</p>"
        } catch {
            state.logger.error("reservation search failed: \(String(describing: error))")
            body += "<p class=\"box error\">The reservation store failed; see the server log.</p>"
        }
        return await pages.single(request, element: RenderedElement(module: "core", name: "reservations", body: body), status: status)
    }

    private func editor(editing: Reservation?, keep form: [String: [String]]) -> String {
        func value(_ name: String, _ fromRecord: String?) -> String {
            HTML.escape(fromRecord ?? form[name]?.first ?? "")
        }
        let isUpdate = editing != nil || form["action"]?.first == "update"
        let original = editing?.mac ?? form["original"]?.first ?? ""
        var html = "<form method=\"post\" action=\"/reservations\"><fieldset><legend>\(isUpdate ? "Edit \(HTML.escape(original))" : "Add a reservation")</legend>"
        html += HTML.hiddenCSRF(state.csrf)
        html += "<input type=\"hidden\" name=\"action\" value=\"\(isUpdate ? "update" : "add")\">"
        if isUpdate { html += "<input type=\"hidden\" name=\"original\" value=\"\(HTML.escape(original))\">" }
        html += "<label>MAC<input type=\"text\" name=\"mac\" required size=\"17\" value=\"\(value("mac", editing?.mac))\" placeholder=\"aa:bb:cc:dd:ee:ff\"></label>"
        html += "<label>IP<input type=\"text\" name=\"ip\" required size=\"15\" value=\"\(value("ip", editing?.ip))\" placeholder=\"192.0.2.10\"></label>"
        html += "<label>Hostname<input type=\"text\" name=\"hostname\" size=\"20\" value=\"\(value("hostname", editing.map { $0.hostname ?? "" }))\"></label>"
        html += "<label>Subnet<input type=\"text\" name=\"subnet\" required size=\"18\" value=\"\(value("subnet", editing?.subnet))\" placeholder=\"192.0.2.0/24\"></label>"
        html += "<label>Serial<input type=\"number\" name=\"serial\" required min=\"0\" size=\"4\" value=\"\(value("serial", editing.map { String($0.serial) }))\"></label>"
        html += "<label>&nbsp;<button class=\"primary\" type=\"submit\">\(isUpdate ? "Save" : "Add")</button></label>"
        if isUpdate { html += "<label>&nbsp;<a class=\"button\" href=\"/reservations\">Cancel</a></label>" }
        return html + "</fieldset></form>"
    }

    private func table(_ reservations: [Reservation]) -> String {
        guard !reservations.isEmpty else { return "<p class=\"empty\">No reservations match.</p>" }
        var html = "<table class=\"data\" id=\"reservations\"><thead><tr><th>MAC</th><th>IP</th><th>Hostname</th><th>Subnet</th><th>Serial</th><th></th></tr></thead><tbody>"
        for reservation in reservations {
            let mac = HTML.escape(reservation.mac)
            html += "<tr><td class=\"mono\">\(mac)</td><td class=\"mono\">\(HTML.escape(reservation.ip))</td><td>\(HTML.escape(reservation.hostname).ifEmpty("–"))</td>"
            html += "<td class=\"mono\">\(HTML.escape(reservation.subnet))</td><td class=\"mono\">\(reservation.serial)</td><td>"
            html += "<a class=\"button\" href=\"/reservations?edit=\(mac.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? mac)\">Edit</a> "
            html += "<form class=\"inline\" method=\"post\" action=\"/reservations\" data-confirm=\"Remove the reservation of \(mac)?\">\(HTML.hiddenCSRF(state.csrf))"
            html += "<input type=\"hidden\" name=\"action\" value=\"remove\"><input type=\"hidden\" name=\"mac\" value=\"\(mac)\"><button class=\"danger\" type=\"submit\">Remove</button></form></td></tr>"
        }
        return html + "</tbody></table>"
    }
}
