/// The "core | pools" element of `/leases`: one utilisation bar per dynamic pool. The bar is a
/// `<meter>`, whose length needs no style attribute (the CSP allows no inline styles).
struct PoolUsageElement {
    let state: WebState

    func render(_ usage: Result<[PoolUsage], Error>) -> RenderedElement {
        RenderedElement(module: "core", name: "pools", body: body(usage), id: "pools-element")
    }

    private func body(_ usage: Result<[PoolUsage], Error>) -> String {
        let pools: [PoolUsage]
        switch usage {
        case .success(let found): pools = found
        case .failure(let error):
            state.logger.error("pool usage failed: \(String(describing: error))")
            return LeasesPage.Message.failure("The pools' counts could not be read; see the server log.").html
        }
        guard !pools.isEmpty else {
            return "<p class=\"empty\">No script reports a pool's size. The dynamism extension does (docs/SCRIPTING.md, \"dynamism\").</p>"
        }
        var html = "<table class=\"data\" id=\"pools\"><thead><tr><th>Pool</th><th>Utilisation</th><th>In use</th><th>Leased</th><th>Offered</th>"
            + "<th>Expired</th><th>Quarantined</th><th>Free</th><th>Size</th></tr></thead><tbody>"
        for pool in pools {
            let percent = TimeText.fixed(pool.utilisation * 100, decimals: 1) + " %"
            let size = max(pool.size, 1)
            html += "<tr><td>\(HTML.escape(pool.pool))</td>"
            html += "<td><meter min=\"0\" max=\"\(size)\" low=\"\(size * 7 / 10)\" high=\"\(size * 9 / 10)\" optimum=\"0\" value=\"\(min(pool.inUse, size))\""
            html += " title=\"\(pool.inUse) of \(pool.size) in use\">\(percent)</meter></td>"
            html += "<td class=\"mono\">\(pool.inUse) / \(pool.size) (\(percent))</td>"
            html += "<td class=\"mono\">\(pool.leased)</td><td class=\"mono\">\(pool.offered)</td><td class=\"mono\">\(pool.expired)</td>"
            html += "<td class=\"mono\">\(pool.quarantined)</td><td class=\"mono\">\(pool.free)</td><td class=\"mono\">\(pool.size)</td></tr>"
        }
        html += "</tbody></table>"
        html += "<p class=\"note\">In use: leased and offered addresses, as the pools count them for <code>/metrics</code>. "
            + "Expired leases keep their address for their client until <code>reclaim_after</code> ends.</p>"
        return html
    }
}
