import Foundation

/// When a peer counts as gone quiet: three missed heartbeats (they come every 5 s).
public enum PeerHealth {
    public static let silentAfter: Double = 15
}

/// The dashboard elements the daemon itself provides: status, activity, recent clients, events.
enum BuiltinElements {
    static func status(_ status: StatusSnapshot, configuration: WebConfiguration, now: Date) -> RenderedElement {
        var rows: [(String, String)] = []
        rows.append(("Started", "\(HTML.timestamp(status.startTime)) <span class=\"pill\">up \(HTML.duration(now.timeIntervalSince(status.startTime)))</span>"))
        rows.append(("Config generation", "\(status.configGeneration)"))
        if let reload = status.lastReload {
            let outcome = reload.succeeded
                ? "<span class=\"ok\">succeeded</span> in \(String(format: "%.3f", reload.durationSeconds)) s"
                : "<span class=\"bad\">failed</span> after \(String(format: "%.3f", reload.durationSeconds)) s"
            rows.append(("Last reload", "\(HTML.timestamp(reload.time)) (\(HTML.age(of: reload.time, now: now))), \(outcome)"))
            if !reload.succeeded {
                rows.append(("Reload error", "<span class=\"bad\">\(HTML.escape(reload.error ?? "unknown error"))</span>"))
            }
        } else {
            rows.append(("Last reload", "<span class=\"empty\">none since start</span>"))
        }
        let sockets = status.sockets.isEmpty
            ? "<span class=\"empty\">none</span>"
            : status.sockets.map { "<span class=\"pill\">\(HTML.escape($0))</span>" }.joined(separator: " ")
        rows.append(("Sockets", sockets))
        rows.append(("Database", HTML.escape(status.databaseEngine)))
        rows.append(("Cache hit rate", status.cacheHitRate.map { String(format: "%.1f %%", $0 * 100) } ?? "<span class=\"empty\">no cache</span>"))
        if let store = status.store { rows.append(("Store", HTML.escape(store))) }
        if !status.peers.isEmpty {
            let peers = status.peers.map { peer in
                let age = now.timeIntervalSince(peer.lastHeard)
                let state = age > PeerHealth.silentAfter ? "bad" : "ok"
                return "<span class=\"pill\">\(HTML.escape(peer.name)) \(HTML.escape(peer.serverIP)) on \(HTML.escape(peer.host))"
                    + "\(peer.isSelf ? " (this one)" : ""), generation \(peer.configGeneration), "
                    + "<span class=\"\(state)\">heard \(HTML.age(of: peer.lastHeard, now: now))</span></span>"
            }
            rows.append(("Peers", peers.joined(separator: " ")))
        }
        rows.append(("Web log level", HTML.escape(configuration.logSeverity.rawValue.uppercased())))
        let body = "<dl class=\"kv\">" + rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"
        return RenderedElement(module: "core", name: "status", body: body, id: "status")
    }

    static func activity(_ activity: ActivitySeries) -> RenderedElement {
        let body = ActivityChart.svg(activity) + ActivityChart.legend(activity)
        return RenderedElement(module: "core", name: "activity · packets/s, last hour", body: body, id: "activity")
    }

    static func recentClients(_ clients: [RecentClient], now: Date) -> RenderedElement {
        guard !clients.isEmpty else {
            return RenderedElement(module: "core", name: "recent clients", body: "<p class=\"empty\">No DHCP traffic yet.</p>", wide: true, id: "clients")
        }
        var body = "<table class=\"data\"><thead><tr><th>Time</th><th>Event</th><th>Outcome</th><th>MAC</th><th>IP</th><th>Subnet</th><th>Serial</th><th>Port</th></tr></thead><tbody>"
        for client in clients {
            body += "<tr><td class=\"mono\" title=\"\(HTML.timestamp(client.time))\">\(HTML.clockTime(client.time)) <span class=\"debug\">\(HTML.age(of: client.time, now: now))</span></td>"
            body += "<td>\(HTML.escape(client.method))</td><td>\(HTML.escape(client.outcome ?? "").ifEmpty("–"))</td><td class=\"mono\">\(HTML.escape(client.mac))</td>"
            body += "<td class=\"mono\">\(HTML.escape(client.ip) .ifEmpty("–"))</td><td class=\"mono\">\(HTML.escape(client.subnet).ifEmpty("–"))</td>"
            body += "<td class=\"mono\">\(client.serial.map(String.init) ?? "–")</td><td class=\"mono\">\(client.port)</td></tr>"
        }
        body += "</tbody></table>"
        return RenderedElement(module: "core", name: "recent clients", body: body, wide: true, id: "clients")
    }

    /// The log FIFO (`WEB_LOG_HISTORY` records), newest first, escaped; the CSS limits its height.
    static func events(_ records: [LogRecord]) -> RenderedElement {
        guard !records.isEmpty else {
            return RenderedElement(module: "core", name: "events", body: "<div id=\"log\"><p class=\"empty\">No events.</p></div>", wide: true, id: "events")
        }
        var body = "<div id=\"log\">"
        for record in records {
            let level = LogLevel(record.level).dashboardName
            body += "<div class=\"\(level)\"><span class=\"time\">\(HTML.timestamp(record.time))</span>"
            body += "<span class=\"level\">\(level)</span>\(HTML.escape(record.message))</div>"
        }
        body += "</div>"
        return RenderedElement(module: "core", name: "events", body: body, wide: true, id: "events")
    }

    /// The box shown when a script callback failed or timed out; it never shows internals.
    static func errorBox(_ message: String) -> String {
        "<p class=\"box error\">\(HTML.escape(message))</p>"
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
