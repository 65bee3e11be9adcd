/// The refusals of state-changing requests that come before any route's own handler (README, web
/// section; docs/SCRIPTING.md for script methods).
enum WriteRules {
    /// A dashboard listening beyond loopback without credentials takes no change from another host.
    static func refusedWithoutCredentials(isAPI: Bool) -> Reply {
        let message = "changes from other hosts are refused while WEB_IP is not a loopback address and no credentials are set:"
            + " set WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD in conf.lua, or make the change from the server itself (127.0.0.1)"
        return isAPI ? .jsonError(message, status: .forbidden) : .text("403 Forbidden: \(message)\n", status: .forbidden)
    }

    /// Why a POST to script `method` is refused, or nil to run it. A method registered `json_api`
    /// takes only `Content-Type: application/json`, which a cross-site form cannot send; any other
    /// needs the visitor's CSRF token, in the `csrf` form field or the `X-CSRF-Token` header.
    static func scriptMethodRefusal(_ method: WebMethodRegistration, _ request: IncomingRequest) -> Reply? {
        if method.jsonAPI {
            guard request.mimetype == "application/json" else {
                return .text("415 Unsupported Media Type: \(method.path) takes Content-Type: application/json\n", status: .unsupportedMediaType)
            }
            return nil
        }
        guard request.formCarriesCSRFToken || request.headerCarriesCSRFToken else {
            return .text("403 Forbidden: the request carries no valid CSRF token (the csrf form field or the X-CSRF-Token header);"
                + " reload the page and try again\n", status: .forbidden)
        }
        return nil
    }
}
