// The registrations and the callback's request and output are DHCPModel's, shared with
// Scripting, which reads them from conf.lua: re-exported for the pages and their tests.
@_exported import DHCPModel

/// The Lua side of the web API (docs/SCRIPTING.md, "Other globals"): what `callbacks.webAddHeader`, `webAddDashboard`
/// and `webAddMethod` registered, and a way to run those callbacks. Implemented by the executable over
/// the Lua runtime. Registrations may change at any time (scripts can add and remove them), so the web
/// server asks for a fresh snapshot on every request. The web server applies its own timeout to every
/// call, so an implementation need not, but it should honour task cancellation where it can.
public protocol ScriptWebHost: Sendable {
    func registrations() async -> WebRegistrations
    /// Runs header callback `id`; returns a `<head>` fragment or nil.
    func callHeader(id: Int, request: WebCallbackRequest) async throws -> String?
    /// Runs dashboard callback `id`; returns a fragment or nil (omit the element).
    func callDashboardElement(id: Int, request: WebCallbackRequest) async throws -> String?
    /// Runs the method registered at `path` in its display mode.
    func callMethod(path: String, request: WebCallbackRequest) async throws -> WebMethodOutput
}
