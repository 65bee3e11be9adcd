import Foundation
import Hummingbird

/// Builds full pages: the dashboard, script methods in each display mode, and reinitialise.
struct DashboardPages: Sendable {
    let state: WebState

    /// A page layout for `request`, with the script header fragments and the sidebar filled in.
    func layout(for request: IncomingRequest, registrations: WebRegistrations) async -> PageLayout {
        let status = await state.source.status()
        var fragments: [String] = []
        for header in registrations.headers {
            let result = await state.runCallback("header \(header.id)") { [scripts = state.scripts] in
                try await scripts?.callHeader(id: header.id, request: request.callbackRequest)
            }
            // A failing header callback is logged and skipped, as the original did.
            if case .success(let fragment?) = result { fragments.append(fragment) }
        }
        return PageLayout(
            configuration: state.configuration, startTime: status.startTime, now: state.now(),
            headFragments: fragments, sidebar: sidebar(registrations), csrf: request.csrfToken, currentPath: request.path)
    }

    func sidebar(_ registrations: WebRegistrations) -> [SidebarEntry] {
        var entries: [SidebarEntry] = []
        let configuration = state.configuration
        if configuration.reinitialiseEnabled && !configuration.reinitialiseHidden {
            entries.append(SidebarEntry(module: "core", name: "reinitialise", path: reinitialisePath, confirm: configuration.reinitialiseConfirm, post: true))
        }
        if state.reservations != nil {
            entries.append(SidebarEntry(module: "core", name: "reservations", path: "/reservations", confirm: false))
        }
        if state.leases != nil {
            entries.append(SidebarEntry(module: "core", name: "leases", path: "/leases", confirm: false))
        }
        if state.explainer != nil {
            entries.append(SidebarEntry(module: "core", name: "explain", path: "/explain", confirm: false))
        }
        for method in registrations.methods where !method.hidden {
            entries.append(SidebarEntry(module: method.module ?? "extensions", name: method.name ?? method.path, path: method.path, confirm: method.confirm))
        }
        return entries
    }

    /// Every dashboard element, built-in and scripted, in `ordering` order (then module, name).
    func dashboardElements(for request: IncomingRequest, registrations: WebRegistrations) async -> [RenderedElement] {
        let configuration = state.configuration
        let now = state.now()
        async let status = state.source.status()
        async let activity = state.source.activity()
        async let clients = state.source.recentClients()
        async let log = configuration.logHistory > 0 ? state.source.logRecords() : []
        var ordered: [(ordering: Int, element: RenderedElement)] = [
            (configuration.dashboardOrderStatus, BuiltinElements.status(await status, configuration: configuration, now: now)),
            (configuration.dashboardOrderActivity, BuiltinElements.activity(await activity)),
            (configuration.dashboardOrderClients, BuiltinElements.recentClients(await clients, now: now)),
        ]
        if configuration.logHistory > 0 {
            ordered.append((configuration.dashboardOrderLog, BuiltinElements.events(await log)))
        }
        let scripted = await withTaskGroup(of: (Int, RenderedElement?).self) { group in
            for registration in registrations.dashboardElements {
                group.addTask {
                    let result = await state.runCallback("dashboard element \(registration.module) | \(registration.name)") { [scripts = state.scripts] in
                        try await scripts?.callDashboardElement(id: registration.id, request: request.callbackRequest)
                    }
                    switch result {
                    case .success(let fragment?):
                        return (registration.ordering, RenderedElement(module: registration.module, name: registration.name, body: fragment))
                    case .success(nil):
                        return (registration.ordering, nil)
                    case .failure(let failure):
                        return (registration.ordering, RenderedElement(module: registration.module, name: registration.name, body: BuiltinElements.errorBox(failure.message)))
                    }
                }
            }
            var collected: [(Int, RenderedElement)] = []
            for await case (let ordering, let element?) in group { collected.append((ordering, element)) }
            return collected
        }
        ordered += scripted.map { (ordering: $0.0, element: $0.1) }
        ordered.sort { ($0.ordering, $0.element.module, $0.element.name) < ($1.ordering, $1.element.module, $1.element.name) }
        return ordered.map(\.element)
    }

    func dashboard(_ request: IncomingRequest, leading: RenderedElement? = nil, status: HTTPResponse.Status = .ok) async -> Reply {
        let registrations = await state.registrations()
        let layout = await layout(for: request, registrations: registrations)
        var elements = await dashboardElements(for: request, registrations: registrations)
        if var leading {
            leading.wide = true
            elements.insert(leading, at: 0)
        }
        return .html(layout.render(elements: elements, rewriteTo: leading == nil ? nil : "/"), status: status)
    }

    /// A page whose main area holds only `element` (TEMPLATE mode, error pages).
    func single(_ request: IncomingRequest, element: RenderedElement, status: HTTPResponse.Status = .ok) async -> Reply {
        await page(request, elements: [element], status: status)
    }

    /// A page of full-width `elements`, one under the other (reservations and subnets).
    func page(_ request: IncomingRequest, elements: [RenderedElement], status: HTTPResponse.Status = .ok) async -> Reply {
        let registrations = await state.registrations()
        let layout = await layout(for: request, registrations: registrations)
        let wide = elements.map { element in
            var element = element
            element.wide = true
            return element
        }
        return .html(layout.render(elements: wide), status: status)
    }

    /// Runs a script method in its display mode.
    func scriptMethod(_ method: WebMethodRegistration, request: IncomingRequest) async -> Reply {
        let label = "method \(method.path)"
        let result = await state.runCallback(label) { [scripts = state.scripts] in
            guard let scripts else { throw CallbackFailure(message: "no script host") }
            return try await scripts.callMethod(path: method.path, request: request.callbackRequest)
        }
        let module = method.module ?? "extensions", name = method.name ?? method.path
        switch (method.displayMode, result) {
        case (.raw, .success(.raw(let mimetype, let body, let headers))):
            let extra = headers.filter { !["content-length", "transfer-encoding", "connection"].contains($0.key.lowercased()) }
            return Reply(status: .ok, contentType: mimetype, body: body, headers: extra.sorted { $0.key < $1.key }, cacheable: method.cacheable)
        case (.raw, .success(.fragment)):
            state.logger.error("web \(label) is RAW but returned a fragment instead of (mimetype, data)")
            return .text("Internal server error\n", status: .internalServerError)
        case (.raw, .failure):
            return .text("Internal server error\n", status: .internalServerError)
        case (_, .success(let output)):
            let fragment: String
            switch output {
            case .fragment(let text): fragment = text ?? ""
            case .raw(_, let body, _): fragment = HTML.escape(String(decoding: body, as: UTF8.self))
            }
            let element = RenderedElement(module: module, name: name, body: fragment)
            var reply = method.displayMode == .dashboard
                ? await dashboard(request, leading: element)
                : await single(request, element: element)
            reply.cacheable = method.cacheable
            return reply
        case (_, .failure(let failure)):
            let element = RenderedElement(module: module, name: name, body: BuiltinElements.errorBox(failure.message))
            return await single(request, element: element, status: .internalServerError)
        }
    }

    /// GET shows a form (no side effects); POST with a valid CSRF token reloads and shows the outcome.
    func reinitialise(_ request: IncomingRequest) async -> Reply {
        let confirm = state.configuration.reinitialiseConfirm
            ? " data-confirm=\"\(HTML.escape("core | reinitialise asks you to confirm your intent.\nContinue?"))\"" : ""
        guard request.method == .post else {
            let body = "<form method=\"post\" action=\"\(reinitialisePath)\"\(confirm)>\(HTML.hiddenCSRF(request.csrfToken))"
                + "<p>Reload the configuration and the database, as SIGHUP does.</p><button class=\"primary\" type=\"submit\">Reinitialise now</button></form>"
            return await dashboard(request, leading: RenderedElement(module: "core", name: "reinitialise", body: body))
        }
        guard request.formCarriesCSRFToken else {
            return await single(request, element: RenderedElement(module: "core", name: "reinitialise", body: BuiltinElements.errorBox("The form expired or did not come from this dashboard; reload the page and try again.")), status: .forbidden)
        }
        let outcome = await state.source.reload()
        let body = outcome.succeeded
            ? "<p class=\"box success\">System reinitialisation completed in \(String(format: "%.4f", outcome.durationSeconds)) seconds.</p>"
            : "<p class=\"box error\"><span class=\"critical\">Reinitialisation failed:</span> \(HTML.escape(outcome.error ?? "unknown error"))</p>"
        return await dashboard(request, leading: RenderedElement(module: "core", name: "reinitialise", body: body), status: outcome.succeeded ? .ok : .internalServerError)
    }
}
