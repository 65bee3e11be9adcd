import Foundation

/// One box in the main area.
struct RenderedElement: Sendable {
    var module: String
    var name: String
    var body: String
    var wide: Bool = false
    var id: String? = nil
}

/// A sidebar entry: a link (GET) or, for methods with side effects, a POST button carrying the CSRF token
/// (for a visitor without one, a link to the method's page, which asks for the credentials).
struct SidebarEntry: Sendable {
    var module: String
    var name: String
    var path: String
    var confirm: Bool
    var post: Bool = false
}

/// The page skeleton of the original's dashboard, as HTML5: header, sidebar of methods, main area, footer.
struct PageLayout: Sendable {
    var configuration: WebConfiguration
    var startTime: Date
    var now: Date
    var headFragments: [String]
    var sidebar: [SidebarEntry]
    /// The visitor's CSRF token; nil for a visitor who may change nothing (e.g. anonymous).
    var csrf: String?
    var currentPath: String

    func render(elements: [RenderedElement], rewriteTo: String? = nil) -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        if configuration.headerTitle { html += "<title>\(HTML.escape(configuration.systemName))</title>" }
        if configuration.headerCSS { html += "<link rel=\"stylesheet\" href=\"/css\">" }
        if configuration.headerFavicon {
            html += "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"><link rel=\"alternate icon\" href=\"/favicon.ico\">"
        }
        html += "<script src=\"/javascript\" defer></script>"
        for fragment in headFragments { html += "\n" + fragment }
        html += "</head>\n<body"
        if let rewriteTo { html += " data-rewrite=\"\(HTML.escape(rewriteTo))\"" }
        html += ">\n" + header() + "\n<div id=\"layout\">" + sidebarHTML() + "<main id=\"main\">"
        if elements.isEmpty { html += "<p class=\"empty\">Nothing to show.</p>" }
        for element in elements { html += "\n" + render(element) }
        html += "</main></div>\n<div id=\"footer\">staticdhcpd \(HTML.escape(configuration.version))</div>\n</body></html>\n"
        return html
    }

    func render(_ element: RenderedElement) -> String {
        let id = element.id.map { " id=\"\(HTML.escape($0))\"" } ?? ""
        let classes = element.wide ? "element wide" : "element"
        return "<section class=\"\(classes)\"\(id)><h1><span class=\"module\">\(HTML.escape(element.module)) |</span> \(HTML.escape(element.name))</h1><div class=\"body\">\(element.body)</div></section>"
    }

    private func header() -> String {
        let uptime = HTML.duration(now.timeIntervalSince(startTime))
        return "<div id=\"header\"><a class=\"system\" href=\"/\">\(HTML.escape(configuration.systemName))</a>"
            + "<span class=\"meta\">online for <b id=\"uptime\">\(uptime)</b>, since <b>\(HTML.timestamp(startTime))</b></span>"
            + "<span class=\"generated\">page generated \(HTML.timestamp(now))</span></div>"
    }

    private func sidebarHTML() -> String {
        var html = "<nav id=\"methods\"><ul><li><a href=\"/\"\(currentPath == "/" ? " class=\"current\"" : "")>Dashboard</a></li></ul>"
        let sorted = sidebar.sorted { ($0.module, $0.name, $0.path) < ($1.module, $1.name, $1.path) }
        var currentModule: String?
        for entry in sorted {
            if entry.module != currentModule {
                if currentModule != nil { html += "</ul>" }
                html += "<h2>\(HTML.escape(entry.module))</h2><ul>"
                currentModule = entry.module
            }
            let confirmation = entry.confirm
                ? " data-confirm=\"\(HTML.escape("\(entry.module) | \(entry.name) asks you to confirm your intent.\nContinue?"))\""
                : ""
            if entry.post, csrf != nil {
                html += "<li><form class=\"inline\" method=\"post\" action=\"\(HTML.escape(entry.path))\"\(confirmation)>\(HTML.hiddenCSRF(csrf))<button type=\"submit\">\(HTML.escape(entry.name))</button></form></li>"
            } else {
                let current = entry.path == currentPath ? " class=\"current\"" : ""
                // A GET link cannot carry a confirm dialog through a form; the script asks on click.
                html += "<li><a href=\"\(HTML.escape(entry.path))\"\(current)\(confirmation)>\(HTML.escape(entry.name))</a></li>"
            }
        }
        if currentModule != nil { html += "</ul>" }
        return html + "</nav>"
    }
}
