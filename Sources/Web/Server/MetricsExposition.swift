/// The Prometheus text exposition format (version 0.0.4) of a `MetricsSnapshot`.
/// Written by hand: the numbers already live in the engine, so a metrics registry would only copy them.
enum MetricsExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ metrics: MetricsSnapshot, status: StatusSnapshot, now: Double) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP staticdhcpd_\(name) \(help)\n# TYPE staticdhcpd_\(name) \(type)\n"
        }
        func sample(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
            let labelText = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            out += "staticdhcpd_\(name)\(labelText) \(format(value))\n"
        }
        /// A family of one sample, without labels.
        func single(_ name: String, _ type: String, _ help: String, _ value: Double) {
            family(name, type, help)
            sample(name, value)
        }
        func summary(_ name: String, _ help: String, _ total: DurationTotal) {
            family(name, "summary", help)
            sample(name + "_sum", total.seconds)
            sample(name + "_count", Double(total.count))
        }

        family("packets_total", "counter", "DHCP packets handled, by method and outcome.")
        for method in metrics.packets.keys.sorted() {
            for (outcome, count) in (metrics.packets[method] ?? [:]).sorted(by: { $0.key < $1.key }) {
                sample("packets_total", Double(count), [("method", method), ("outcome", outcome)])
            }
        }
        family("replies_sent_total", "counter", "Replies sent, by DHCP message type.")
        for (type, count) in metrics.repliesSent.sorted(by: { $0.key < $1.key }) {
            sample("replies_sent_total", Double(count), [("type", type)])
        }
        family("drops_total", "counter", "Packets dropped before handling, by reason.")
        for (reason, count) in metrics.drops.sorted(by: { $0.key < $1.key }) {
            sample("drops_total", Double(count), [("reason", reason)])
        }
        single("stale_requests_total", "counter", "Requests dropped unanswered because they waited over 0.5 s in a socket's receive buffer (overload); counted since the sockets were bound.", Double(metrics.staleRequests))
        single("truncated_options_total", "counter", "Datagrams whose last option the datagram's end cut off; the options before it were used.", Double(metrics.truncatedOptions))
        single("hook_errors_total", "counter", "Script hook calls that raised an error.", Double(metrics.hookErrors))
        summary("hook_duration_seconds", "Time spent in script hooks.", metrics.hookTime)
        summary("database_lookup_duration_seconds", "Time spent in database lookups.", metrics.databaseLookups)
        single("database_errors_total", "counter", "Database lookups that failed.", Double(metrics.databaseErrors))
        single("cache_hits_total", "counter", "Lookups answered by the cache.", Double(metrics.cacheHits))
        single("remembered_offers_total", "counter", "REQUESTs answered from the lookup behind their OFFER, without asking the database.", Double(metrics.rememberedOffers))
        single("abuse_table_evictions_total", "counter", "MACs dropped from the full blocklist or flood-counter table to make room for another.", Double(metrics.abuseEvictions))
        single("reloads_total", "counter", "Reinitialisations attempted.", Double(metrics.reloads))
        single("reload_failures_total", "counter", "Reinitialisations that failed.", Double(metrics.reloadFailures))
        single("config_generation", "gauge", "Configuration generation (increments on each successful reload).", Double(status.configGeneration))
        single("start_time_seconds", "gauge", "Start time of the daemon since the Unix epoch.", status.startTime.timeIntervalSince1970)
        if !status.peers.isEmpty {
            let heard = status.peers.filter { now - $0.lastHeard.timeIntervalSince1970 <= PeerHealth.silentAfter }
            single("peers", "gauge", "Daemons sharing the store heard from within the last 15 s (this one included).", Double(heard.count))
        }
        // The scripts' samples, one family per name; a name the daemon already uses is left out.
        let builtIn = Set(out.split(separator: "\n").compactMap { $0.hasPrefix("# TYPE staticdhcpd_") ? $0.split(separator: " ")[2].dropFirst(12) : nil }.map(String.init))
        var written = Set<String>()
        let grouped = metrics.scripted.enumerated().sorted { ($0.element.name, $0.offset) < ($1.element.name, $1.offset) }.map(\.element)
        for metric in grouped where !builtIn.contains(metric.name) {
            if written.insert(metric.name).inserted { family(metric.name, metric.type, metric.help) }
            sample(metric.name, metric.value, metric.labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        if let rate = status.cacheHitRate {
            single("cache_hit_ratio", "gauge", "Fraction of lookups answered by the cache.", rate)
        }
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
