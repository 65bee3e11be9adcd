import Foundation
import Hummingbird

/// `/reservations`: search, add, edit and remove reservations, and list, add, edit and remove the
/// subnets they belong to, from the browser. GET never changes anything; every change is a POST
/// carrying the CSRF token, and only with digest credentials configured.
struct ReservationsPage: Sendable {
    let state: WebState
    let pages: DashboardPages
    /// The visitor's CSRF token, which every form here carries (nil: the forms are shown but refused).
    let csrfToken: String?

    /// A line shown above the element the change was made in.
    enum Message {
        case success(String)
        case failure(String)

        var html: String {
            switch self {
            case .success(let text): "<p class=\"box success\">\(HTML.escape(text))</p>"
            case .failure(let text): "<p class=\"box error\">\(HTML.escape(text))</p>"
            }
        }
    }

    /// Which element a POST addressed (its message and rejected input go there).
    enum Target { case reservations, subnets }

    func handle(_ request: IncomingRequest) async -> Reply {
        guard let store = state.reservations else {
            let element = RenderedElement(module: "core", name: "reservations",
                                          body: Message.failure("Reservations can be edited only with an SQL database engine.").html)
            return await pages.single(request, element: element, status: .notFound)
        }
        guard request.method == .post else { return await show(request, store: store, status: .ok) }
        let form = request.form
        let action = form["action"]?.first ?? ""
        let target: Target = action.hasPrefix("subnet-") ? .subnets : .reservations
        guard request.formCarriesCSRFToken else {
            return await show(request, store: store, status: .forbidden, target: target,
                              message: .failure("The form expired or did not come from this dashboard; reload the page and try again."))
        }
        guard state.authenticator != nil else {
            return await show(request, store: store, status: .forbidden, target: target,
                              message: .failure("Editing reservations and subnets needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set."))
        }
        do {
            let message: String
            if target == .subnets {
                message = try await SubnetsElement(state: state, csrfToken: csrfToken).perform(action, form: form, store: store)
            } else {
                message = try await perform(action, form: form, store: store)
            }
            return await show(request, store: store, status: .ok, target: target, message: .success(message))
        } catch let error as UserFacingError {
            return await show(request, store: store, status: .badRequest, target: target, message: .failure(error.userMessage), keep: form)
        } catch {
            state.logger.error("reservation change failed: \(String(describing: error))")
            return await show(request, store: store, status: .internalServerError, target: target,
                              message: .failure("The reservation store failed; see the server log."), keep: form)
        }
    }

    /// Applies a reservation form; returns what was done.
    private func perform(_ action: String, form: [String: [String]], store: any ReservationStore) async throws -> String {
        switch action {
        case "add":
            let reservation = try reservation(from: form)
            try await store.addReservation(reservation)
            return "Added \(reservation.mac) → \(reservation.ip)."
        case "update":
            let original = try ReservationValidation.normalisedMAC(form["original"]?.first ?? "")
            let reservation = try reservation(from: form)
            try await store.updateReservation(mac: original, with: reservation)
            return "Updated \(reservation.mac) → \(reservation.ip)."
        case "remove":
            let mac = try ReservationValidation.normalisedMAC(form["mac"]?.first ?? "")
            guard try await store.removeReservation(mac: mac) else {
                throw ReservationInputError("There is no reservation for \(mac).")
            }
            return "Removed \(mac)."
        default:
            throw ReservationInputError("Unknown action \"\(action)\"; expected add, update, remove, subnet-add, subnet-update or subnet-remove.")
        }
    }

    private func reservation(from form: [String: [String]]) throws -> Reservation {
        func field(_ name: String) -> String { form[name]?.first?.trimmingCharacters(in: .whitespaces) ?? "" }
        guard let serial = Int(field("serial")) else {
            throw ReservationInputError("serial \"\(field("serial"))\" is not a whole number")
        }
        return try ReservationValidation.validated(
            mac: field("mac"), ip: field("ip"), hostname: field("hostname"), subnet: field("subnet"), serial: serial)
    }

    private func show(
        _ request: IncomingRequest, store: any ReservationStore, status: HTTPResponse.Status, target: Target = .reservations,
        message: Message? = nil, keep form: [String: [String]] = [:]
    ) async -> Reply {
        let subnets: Result<[SubnetRecord], Error>
        do { subnets = .success(try await store.listSubnets()) } catch { subnets = .failure(error) }
        var body = target == .reservations ? message?.html ?? "" : ""
        if state.authenticator == nil {
            body += "<p class=\"box error\">Read-only: editing reservations and subnets needs WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD to be set.</p>"
        }
        let query = request.method == .get ? (request.firstQuery("q") ?? "") : ""
        body += "<form class=\"toolbar\" method=\"get\" action=\"/reservations\"><input type=\"search\" name=\"q\" value=\"\(HTML.escape(query))\" placeholder=\"MAC, IP, hostname or subnet\" size=\"32\"><button type=\"submit\">Search</button></form>"

        var editing: Reservation?
        if request.method == .get, let mac = request.firstQuery("edit") {
            if let mac = try? ReservationValidation.normalisedMAC(mac) { editing = try? await store.reservation(mac: mac) }
        }
        body += editor(editing: editing, keep: target == .reservations ? form : [:], subnets: (try? subnets.get()) ?? [])

        do {
            let found = try await store.searchReservations(matching: query, limit: 500)
            body += table(found)
        } catch {
            body += failureBox(error, what: "reservation search")
        }
        let subnetsElement = SubnetsElement(state: state, csrfToken: csrfToken).render(
            request, subnets: subnets, message: target == .subnets ? message : nil, keep: target == .subnets ? form : [:])
        return await pages.page(request, elements: [
            RenderedElement(module: "core", name: "reservations", body: body, id: "reservations-element"),
            subnetsElement,
        ], status: status)
    }

    func failureBox(_ error: Error, what: String) -> String {
        if let error = error as? UserFacingError { return Message.failure(error.userMessage).html }
        state.logger.error("\(what) failed: \(String(describing: error))")
        return Message.failure("The reservation store failed; see the server log.").html
    }

    private func editor(editing: Reservation?, keep form: [String: [String]], subnets: [SubnetRecord]) -> String {
        func value(_ name: String, _ fromRecord: String?) -> String {
            HTML.escape(fromRecord ?? form[name]?.first ?? "")
        }
        let isUpdate = editing != nil || form["action"]?.first == "update"
        let original = editing?.mac.description ?? form["original"]?.first ?? ""
        var html = "<form method=\"post\" action=\"/reservations\"><fieldset><legend>\(isUpdate ? "Edit \(HTML.escape(original))" : "Add a reservation")</legend>"
        html += HTML.hiddenCSRF(csrfToken)
        html += "<input type=\"hidden\" name=\"action\" value=\"\(isUpdate ? "update" : "add")\">"
        if isUpdate { html += "<input type=\"hidden\" name=\"original\" value=\"\(HTML.escape(original))\">" }
        html += "<label>MAC<input type=\"text\" name=\"mac\" required size=\"17\" value=\"\(value("mac", editing?.mac.description))\" placeholder=\"aa:bb:cc:dd:ee:ff\"></label>"
        html += "<label>IP<input type=\"text\" name=\"ip\" required size=\"15\" value=\"\(value("ip", editing?.ip.description))\" placeholder=\"192.0.2.10\"></label>"
        html += "<label>Hostname<input type=\"text\" name=\"hostname\" size=\"20\" value=\"\(value("hostname", editing.map { $0.hostname ?? "" }))\"></label>"
        html += "<label>Subnet<input type=\"text\" name=\"subnet\" required size=\"18\" list=\"subnet-labels\" value=\"\(value("subnet", editing?.subnet))\" placeholder=\"192.0.2.0/24\"></label>"
        html += "<label>Serial<input type=\"number\" name=\"serial\" required min=\"0\" size=\"4\" value=\"\(value("serial", editing.map { String($0.serial) }))\"></label>"
        html += "<label>&nbsp;<button class=\"primary\" type=\"submit\">\(isUpdate ? "Save" : "Add")</button></label>"
        if isUpdate { html += "<label>&nbsp;<a class=\"button\" href=\"/reservations\">Cancel</a></label>" }
        // The known subnets as suggestions for the subnet field.
        var labels: [String] = []
        for subnet in subnets where !labels.contains(subnet.subnet) { labels.append(subnet.subnet) }
        html += "<datalist id=\"subnet-labels\">" + labels.map { "<option value=\"\(HTML.escape($0))\">" }.joined() + "</datalist>"
        return html + "</fieldset></form>"
    }

    private func table(_ reservations: [Reservation]) -> String {
        guard !reservations.isEmpty else { return "<p class=\"empty\">No reservations match.</p>" }
        var html = "<table class=\"data\" id=\"reservations\"><thead><tr><th>MAC</th><th>IP</th><th>Hostname</th><th>Subnet</th><th>Serial</th><th></th></tr></thead><tbody>"
        for reservation in reservations {
            let mac = HTML.escape(reservation.mac.description)
            html += "<tr><td class=\"mono\">\(mac)</td><td class=\"mono\">\(HTML.escape(reservation.ip.description))</td><td>\(HTML.escape(reservation.hostname).ifEmpty("–"))</td>"
            html += "<td class=\"mono\">\(HTML.escape(reservation.subnet))</td><td class=\"mono\">\(reservation.serial)</td><td>"
            html += "<a class=\"button\" href=\"/reservations?edit=\(HTML.queryEscape(reservation.mac.description))\">Edit</a> "
            html += "<form class=\"inline\" method=\"post\" action=\"/reservations\" data-confirm=\"Remove the reservation of \(mac)?\">\(HTML.hiddenCSRF(csrfToken))"
            html += "<input type=\"hidden\" name=\"action\" value=\"remove\"><input type=\"hidden\" name=\"mac\" value=\"\(mac)\"><button class=\"danger\" type=\"submit\">Remove</button></form></td></tr>"
        }
        return html + "</tbody></table>"
    }
}
