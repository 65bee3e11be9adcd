/// The display modes of `webAddMethod` (values as in the Lua API).
public enum WebDisplayMode: Int, Sendable, Codable {
    case dashboard = 1
    case template = 2
    case raw = 3
}

/// What conf.lua registered through `callbacks.web*` (docs/SCRIPTING.md, "Other globals"). Module
/// and name are kept as given; the web layer escapes them when rendering.
public struct WebRegistrations: Sendable, Equatable {
    public var headers: [WebHeaderRegistration]
    /// Sorted by (ordering, module, name).
    public var dashboardElements: [WebDashboardRegistration]
    /// Sorted by path.
    public var methods: [WebMethodRegistration]

    public init(
        headers: [WebHeaderRegistration] = [], dashboardElements: [WebDashboardRegistration] = [],
        methods: [WebMethodRegistration] = []
    ) {
        self.headers = headers
        self.dashboardElements = dashboardElements
        self.methods = methods
    }
}

/// A header callback, in registration order.
public struct WebHeaderRegistration: Sendable, Equatable {
    public var id: Int
    public init(id: Int) { self.id = id }
}

/// A dashboard element. `ordering` is already resolved by the host (an omitted ordering becomes
/// the current maximum + 1, or 0 for the first, as in the original).
public struct WebDashboardRegistration: Sendable, Equatable {
    public var id: Int
    public var module: String
    public var name: String
    public var ordering: Int

    public init(id: Int, module: String, name: String, ordering: Int) {
        self.id = id
        self.module = module
        self.name = name
        self.ordering = ordering
    }
}

/// A method at a URL path.
public struct WebMethodRegistration: Sendable, Equatable {
    /// The script's callback (ids are per Lua runtime); the web server addresses methods by path.
    public var id: Int
    public var path: String
    public var cacheable: Bool
    public var hidden: Bool
    /// Always asks for the credentials, whatever WEB_DASHBOARD_SECURE says.
    public var secure: Bool
    /// Never asks for them, even with WEB_DASHBOARD_SECURE = true (`public = true` in Lua).
    public var isPublic: Bool
    /// A JSON API (`json_api = true`): a POST must be `Content-Type: application/json`, which a
    /// cross-site form cannot send, and needs no CSRF token.
    public var jsonAPI: Bool
    public var module: String?
    public var name: String?
    public var confirm: Bool
    public var displayMode: WebDisplayMode

    public init(
        path: String, cacheable: Bool = false, hidden: Bool = true, secure: Bool = false, isPublic: Bool = false,
        jsonAPI: Bool = false, module: String? = nil, name: String? = nil, confirm: Bool = false,
        displayMode: WebDisplayMode = .raw, id: Int = 0
    ) {
        self.id = id
        self.path = path
        self.cacheable = cacheable
        self.hidden = hidden
        self.secure = secure
        self.isPublic = isPublic
        self.jsonAPI = jsonAPI
        self.module = module
        self.name = name
        self.confirm = confirm
        self.displayMode = displayMode
    }
}

/// The arguments every web callback receives: `(path, queryargs, mimetype, data, headers, csrf_token)`.
public struct WebCallbackRequest: Sendable, Equatable {
    public var path: String
    /// Query parameters, name to every value given.
    public var queryArguments: [String: [String]]
    /// POST body media type without parameters; nil for GET.
    public var mimetype: String?
    /// POST body; nil for GET.
    public var data: [UInt8]?
    /// Request headers, names lower-cased; repeated headers joined with ", ".
    public var headers: [String: String]
    /// The visitor's CSRF token, for forms the callback renders (README, web section); nil for a
    /// visitor who may change nothing, such as an anonymous one while credentials are set.
    public var csrfToken: String?

    public init(
        path: String, queryArguments: [String: [String]] = [:], mimetype: String? = nil, data: [UInt8]? = nil,
        headers: [String: String] = [:], csrfToken: String? = nil
    ) {
        self.path = path
        self.queryArguments = queryArguments
        self.mimetype = mimetype
        self.data = data
        self.headers = headers
        self.csrfToken = csrfToken
    }
}

/// What a method callback produced.
public enum WebMethodOutput: Sendable, Equatable {
    /// DASHBOARD or TEMPLATE mode: a fragment, or nil for an empty element.
    case fragment(String?)
    /// RAW mode: sent verbatim with the given media type and extra headers.
    case raw(mimetype: String, body: [UInt8], headers: [String: String])
}
