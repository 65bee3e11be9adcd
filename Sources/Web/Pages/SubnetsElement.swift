import DHCPWire
import Foundation

/// The subnets element of `/reservations`: the `subnets` table with an editor. A subnet is keyed by
/// (subnet, serial); editing changes its settings, never its key (reservations point at the key).
/// Its forms post to `/reservations#subnets` with actions `subnet-add`, `subnet-update`, `subnet-remove`.
struct SubnetsElement: Sendable {
    let state: WebState
    let csrfToken: String?

    /// Applies a subnet form; returns what was done. Errors meant for the operator are `UserFacingError`s.
    func perform(_ action: String, form: [String: [String]], store: any ReservationStore) async throws -> String {
        switch action {
        case "subnet-add":
            let subnet = try record(from: form)
            try await store.addSubnet(subnet)
            return "Added subnet \(subnet.subnet) serial \(subnet.serial)."
        case "subnet-update":
            let subnet = try record(from: form)
            try await store.updateSubnet(subnet)
            return "Updated subnet \(subnet.subnet) serial \(subnet.serial)."
        case "subnet-remove":
            let label = try SubnetValidation.label(form["subnet"]?.first ?? "")
            let serial = try Self.serial(form["serial"]?.first)
            guard try await store.removeSubnet(subnet: label, serial: serial) else {
                throw ReservationInputError("There is no subnet \(label) serial \(serial).")
            }
            return "Removed subnet \(label) serial \(serial)."
        default:
            throw ReservationInputError("Unknown action \"\(action)\"; expected subnet-add, subnet-update or subnet-remove.")
        }
    }

    static func serial(_ text: String?) throws -> Int {
        let trimmed = text?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let serial = Int(trimmed) else { throw ReservationInputError("serial \"\(trimmed)\" is not a whole number") }
        return serial
    }

    private func record(from form: [String: [String]]) throws -> SubnetRecord {
        func field(_ name: String) -> String? { form[name]?.first }
        let leaseText = field("lease_time")?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let leaseTime = Int(leaseText) else {
            throw ReservationInputError("lease time \"\(leaseText)\" is not a whole number of seconds")
        }
        let serial = try Self.serial(field("serial"))
        let input = SubnetInput(
            leaseTime: leaseTime, gateway: field("gateway"), subnetMask: field("subnet_mask"), broadcastAddress: field("broadcast_address"),
            ntpServers: field("ntp_servers"), domainNameServers: field("domain_name_servers"), domainName: field("domain_name"))
        return try SubnetValidation.validated(input, subnet: field("subnet") ?? "", serial: serial)
    }

    /// An address list as the table and the form show it: `a,b,c`, nil when empty.
    private static func text(_ addresses: [IPv4]) -> String? {
        addresses.isEmpty ? nil : addresses.map(\.description).joined(separator: ",")
    }

    // MARK: Rendering

    func render(
        _ request: IncomingRequest, subnets: Result<[SubnetRecord], Error>, message: ReservationsPage.Message?,
        keep form: [String: [String]]
    ) -> RenderedElement {
        var body = message?.html ?? ""
        switch subnets {
        case .success(let subnets):
            var editing: SubnetRecord?
            if request.method == .get, let label = request.firstQuery("edit-subnet") {
                let serial = request.firstQuery("serial").flatMap { Int($0) } ?? 0
                editing = subnets.first { $0.subnet == label && $0.serial == serial }
                if editing == nil { body += ReservationsPage.Message.failure("There is no subnet \(label) serial \(serial).").html }
            }
            body += editor(editing: editing, keep: form)
            body += table(subnets)
        case .failure(let error):
            if let error = error as? UserFacingError {
                body += ReservationsPage.Message.failure(error.userMessage).html
            } else {
                state.logger.error("subnet list failed: \(String(describing: error))")
                body += ReservationsPage.Message.failure("The reservation store failed; see the server log.").html
            }
        }
        return RenderedElement(module: "core", name: "subnets", body: body, id: "subnets")
    }

    private func editor(editing: SubnetRecord?, keep form: [String: [String]]) -> String {
        func value(_ name: String, _ fromRecord: String?) -> String {
            HTML.escape(editing != nil ? fromRecord ?? "" : form[name]?.first ?? "")
        }
        let isUpdate = editing != nil || form["action"]?.first == "subnet-update"
        let key = isUpdate ? " readonly" : " required"
        var html = "<form method=\"post\" action=\"/reservations#subnets\"><fieldset><legend>"
        html += isUpdate ? "Edit subnet \(value("subnet", editing?.subnet)) serial \(value("serial", editing.map { String($0.serial) }))" : "Add a subnet"
        html += "</legend>" + HTML.hiddenCSRF(csrfToken)
        html += "<input type=\"hidden\" name=\"action\" value=\"\(isUpdate ? "subnet-update" : "subnet-add")\">"
        html += "<label>Subnet<input type=\"text\" name=\"subnet\"\(key) size=\"18\" value=\"\(value("subnet", editing?.subnet))\" placeholder=\"192.0.2.0/24\"></label>"
        let serial = value("serial", editing.map { String($0.serial) })
        html += "<label>Serial<input type=\"number\" name=\"serial\"\(key) min=\"0\" size=\"4\" value=\"\(serial.isEmpty && !isUpdate ? "0" : serial)\"></label>"
        html += "<label>Lease time (s)<input type=\"number\" name=\"lease_time\" required min=\"1\" size=\"7\" value=\"\(value("lease_time", editing.map { String($0.leaseTime) }))\" placeholder=\"3600\"></label>"
        html += "<label>Gateways<input type=\"text\" name=\"gateway\" size=\"15\" value=\"\(value("gateway", editing.flatMap { Self.text($0.gateways) }))\" placeholder=\"192.0.2.1\"></label>"
        html += "<label>Subnet mask<input type=\"text\" name=\"subnet_mask\" size=\"15\" value=\"\(value("subnet_mask", editing?.subnetMask?.description))\" placeholder=\"255.255.255.0\"></label>"
        html += "<label>Broadcast<input type=\"text\" name=\"broadcast_address\" size=\"15\" value=\"\(value("broadcast_address", editing?.broadcastAddress?.description))\" placeholder=\"192.0.2.255\"></label>"
        html += "<label>DNS servers<input type=\"text\" name=\"domain_name_servers\" size=\"22\" value=\"\(value("domain_name_servers", editing.flatMap { Self.text($0.domainNameServers) }))\" placeholder=\"192.0.2.53,192.0.2.54\"></label>"
        html += "<label>NTP servers<input type=\"text\" name=\"ntp_servers\" size=\"15\" value=\"\(value("ntp_servers", editing.flatMap { Self.text($0.ntpServers) }))\"></label>"
        html += "<label>Domain name<input type=\"text\" name=\"domain_name\" size=\"16\" value=\"\(value("domain_name", editing?.domainName))\" placeholder=\"example.net\"></label>"
        html += "<label>&nbsp;<button class=\"primary\" type=\"submit\">\(isUpdate ? "Save" : "Add")</button></label>"
        if isUpdate { html += "<label>&nbsp;<a class=\"button\" href=\"/reservations#subnets\">Cancel</a></label>" }
        return html + "</fieldset></form>"
    }

    private func table(_ subnets: [SubnetRecord]) -> String {
        guard !subnets.isEmpty else { return "<p class=\"empty\">No subnets yet; add one before its reservations.</p>" }
        var html = "<table class=\"data\" id=\"subnet-table\"><thead><tr><th>Subnet</th><th>Serial</th><th>Lease</th><th>Gateways</th>"
            + "<th>Mask</th><th>Broadcast</th><th>DNS servers</th><th>NTP servers</th><th>Domain</th><th></th></tr></thead><tbody>"
        for subnet in subnets {
            let label = HTML.escape(subnet.subnet)
            func cell(_ text: String?) -> String { "<td class=\"mono\">\(HTML.escape(text).ifEmpty("–"))</td>" }
            html += "<tr><td class=\"mono\">\(label)</td><td class=\"mono\">\(subnet.serial)</td>"
            html += "<td class=\"mono\" title=\"\(subnet.leaseTime) s\">\(HTML.duration(TimeInterval(subnet.leaseTime)))</td>"
            html += cell(Self.text(subnet.gateways)) + cell(subnet.subnetMask?.description) + cell(subnet.broadcastAddress?.description)
            html += cell(Self.text(subnet.domainNameServers)) + cell(Self.text(subnet.ntpServers)) + cell(subnet.domainName) + "<td>"
            html += "<a class=\"button\" href=\"/reservations?edit-subnet=\(HTML.queryEscape(subnet.subnet))&amp;serial=\(subnet.serial)#subnets\">Edit</a> "
            html += "<form class=\"inline\" method=\"post\" action=\"/reservations#subnets\" data-confirm=\"Remove subnet \(label) serial \(subnet.serial)?\">"
            html += HTML.hiddenCSRF(csrfToken) + "<input type=\"hidden\" name=\"action\" value=\"subnet-remove\">"
            html += "<input type=\"hidden\" name=\"subnet\" value=\"\(label)\"><input type=\"hidden\" name=\"serial\" value=\"\(subnet.serial)\">"
            html += "<button class=\"danger\" type=\"submit\">Remove</button></form></td></tr>"
        }
        return html + "</tbody></table>"
    }
}
