import Hummingbird

/// `/explain`: `staticdhcpd explain` as a form (README, "Checking a change before SIGHUP"). It runs
/// conf.lua as it is on disk against the database, so it is behind the credentials whenever they
/// are set; without them only the server itself (a loopback peer) may use it. The request runs
/// on a POST carrying the CSRF token: the hooks run for real and may write to the store.
struct ExplainPage: Sendable {
    let state: WebState
    let pages: DashboardPages

    typealias Message = ReservationsPage.Message

    func handle(_ request: IncomingRequest) async -> Reply {
        guard let explainer = state.explainer else {
            return await show(request, form: ExplainForm(), methods: [], status: .notFound,
                              message: .failure("This daemon cannot explain requests."))
        }
        let methods = explainer.methods
        guard state.authenticator != nil || request.visitor.isLoopback else {
            return await show(request, form: ExplainForm(), methods: methods, status: .forbidden,
                              message: .failure("Without WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD, explain may be used only from the server itself (127.0.0.1)."))
        }
        guard request.method == .post else {
            return await show(request, form: ExplainForm(method: methods.first ?? ""), methods: methods, status: .ok)
        }
        let fields = request.form
        let form = ExplainForm(
            mac: fields["mac"]?.first ?? "", method: fields["method"]?.first ?? "",
            relay: fields["relay"]?.first ?? "", requestedIP: fields["requested_ip"]?.first ?? "")
        guard request.formCarriesCSRFToken else {
            return await show(request, form: form, methods: methods, status: .forbidden,
                              message: .failure("The form expired or did not come from this dashboard; reload the page and try again."))
        }
        let answer = await explainer.explain(form)
        let message: Message = switch answer.verdict {
        case .reply: .success("A reply would be sent.")
        case .noReply: .failure("No reply would be sent.")
        case .refused: .failure("Explain refused the request or conf.lua.")
        }
        return await show(request, form: form, methods: methods, status: answer.verdict == .refused ? .badRequest : .ok,
                          message: message, report: answer.text)
    }

    private func show(
        _ request: IncomingRequest, form: ExplainForm, methods: [String], status: HTTPResponse.Status,
        message: Message? = nil, report: String? = nil
    ) async -> Reply {
        var body = "<p>Runs one request through conf.lua as it is on disk and the database, as the daemon would after a reload, and sends nothing.</p>"
        body += message?.html ?? ""
        if let csrf = request.csrfToken {
            body += "<form method=\"post\" action=\"/explain\" class=\"toolbar\">"
                + "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(csrf))\">"
                + field("mac", "MAC", form.mac, placeholder: "02:00:00:00:00:01")
                + "<label>Method <select name=\"method\">"
                + methods.map { "<option\($0 == form.method ? " selected" : "")>\(HTML.escape($0))</option>" }.joined()
                + "</select></label>"
                + field("relay", "Relay", form.relay, placeholder: "198.51.100.2")
                + field("requested_ip", "Requested IP", form.requestedIP, placeholder: "192.0.2.10")
                + "<button type=\"submit\">Explain</button></form>"
        }
        if let report {
            body += "<pre id=\"explain-report\">\(HTML.escape(report))</pre>"
        }
        return await pages.single(request, element: RenderedElement(module: "core", name: "explain", body: body, wide: true), status: status)
    }

    private func field(_ name: String, _ label: String, _ value: String, placeholder: String) -> String {
        "<label>\(label) <input type=\"text\" name=\"\(name)\" value=\"\(HTML.escape(value))\" placeholder=\"\(placeholder)\" size=\"17\"></label>"
    }
}
