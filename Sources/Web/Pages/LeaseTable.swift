import Foundation

/// The table of `/leases`: one row per lease, every value escaped (a hostname is whatever the
/// client sent), with a release form per lease when releasing is allowed.
struct LeaseTable {
    let csrf: String?
    let now: Date
    let canRelease: Bool

    func render(_ leases: [PoolLease], query: String, limit: Int) -> String {
        guard !leases.isEmpty else {
            return "<p class=\"empty\">\(query.isEmpty ? "No pool leases in the store." : "No leases match.")</p>"
        }
        var html = "<p class=\"count\">\(leases.count) \(leases.count == 1 ? "lease" : "leases")"
        if leases.count > limit { html += "; the first \(limit) are shown, search to narrow them down" }
        html += ".</p><table class=\"data\" id=\"leases\"><thead><tr><th>Pool</th><th>MAC</th><th>Address</th><th>Hostname</th>"
            + "<th>State</th><th>Expires</th><th></th></tr></thead><tbody>"
        for lease in leases.prefix(limit) { html += row(lease, query: query) }
        return html + "</tbody></table>"
    }

    private func row(_ lease: PoolLease, query: String) -> String {
        let mac = HTML.escape(lease.mac), ip = HTML.escape(lease.ip)
        let state = lease.isExpired(at: now) ? "expired" : lease.state
        let remaining = lease.expires.timeIntervalSince(now)
        let when = remaining >= 0 ? "in \(HTML.duration(remaining))" : HTML.age(of: lease.expires, now: now)
        var html = "<tr><td>\(HTML.escape(lease.pool))</td><td class=\"mono\">\(mac)</td><td class=\"mono\">\(ip)</td>"
        html += "<td>\(HTML.escape(lease.hostname).ifEmpty("–"))</td><td>\(HTML.escape(state))</td>"
        html += "<td class=\"mono\">\(HTML.timestamp(lease.expires)) (\(when))</td><td>"
        // A quarantine is not a client's lease: it ends by itself (docs/SCRIPTING.md, "dynamism").
        if canRelease && lease.state != "quarantined" {
            html += "<form class=\"inline\" method=\"post\" action=\"/leases\" data-confirm=\"\(HTML.escape("Release \(lease.ip) of \(lease.mac)? The address becomes free for other clients."))\">"
            html += HTML.hiddenCSRF(csrf) + "<input type=\"hidden\" name=\"action\" value=\"release\">"
            html += "<input type=\"hidden\" name=\"mac\" value=\"\(mac)\"><input type=\"hidden\" name=\"q\" value=\"\(HTML.escape(query))\">"
            html += "<button class=\"danger\" type=\"submit\">Release</button></form>"
        }
        return html + "</td></tr>"
    }
}
