import Foundation
import Hummingbird

/// A request as the pages see it: decoded once, body already read (within limits).
struct IncomingRequest: Sendable {
    var method: HTTPRequest.Method
    /// Path without the query string.
    var path: String
    /// The request target as sent (path and query), which digest authentication signs.
    var target: String
    var query: [String: [String]]
    /// Header names lower-cased; repeated headers joined with ", ".
    var headers: [String: String]
    /// Media type of the body without parameters; nil when there is no body.
    var mimetype: String?
    var body: [UInt8]?
    /// Who sent it.
    var visitor: Visitor
    /// The CSRF token this visitor's forms carry and its state changes must present; nil when the
    /// visitor may change nothing (`WebState.csrfToken(for:)`).
    var csrfToken: String?

    /// Whether the form field `csrf` holds this visitor's token.
    var formCarriesCSRFToken: Bool { Self.same(form["csrf"]?.first, csrfToken) }

    /// Whether the `X-CSRF-Token` header holds this visitor's token.
    var headerCarriesCSRFToken: Bool { Self.same(headers["x-csrf-token"], csrfToken) }

    private static func same(_ candidate: String?, _ expected: String?) -> Bool {
        guard let candidate, let expected else { return false }
        return constantTimeEquals(candidate, expected)
    }

    var callbackRequest: WebCallbackRequest {
        WebCallbackRequest(path: path, queryArguments: query, mimetype: mimetype, data: body, headers: headers, csrfToken: csrfToken)
    }

    /// The body decoded as an HTML form (`application/x-www-form-urlencoded`).
    var form: [String: [String]] {
        guard mimetype == "application/x-www-form-urlencoded", let body else { return [:] }
        return FormDecoding.decode(String(decoding: body, as: UTF8.self))
    }

    func firstQuery(_ name: String) -> String? { query[name]?.first }
}

/// What a page produced, before the common headers are added.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var contentType: String
    var body: [UInt8]
    var headers: [(String, String)] = []
    var cacheable: Bool = false

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Reply {
        Reply(status: status, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }

    static func text(_ text: String, status: HTTPResponse.Status) -> Reply {
        Reply(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Reply {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            var body = try encoder.encode(value)
            body.append(0x0a)
            return Reply(status: status, contentType: "application/json", body: Array(body))
        } catch {
            return .text("Internal server error\n", status: .internalServerError)
        }
    }

    static func jsonError(_ message: String, status: HTTPResponse.Status) -> Reply {
        .json(["error": message], status: status)
    }
}

/// `application/x-www-form-urlencoded` and query-string decoding: name to every value, in order.
enum FormDecoding {
    static func decode(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = unescape(String(parts[0]))
            let value = parts.count > 1 ? unescape(String(parts[1])) : ""
            guard !name.isEmpty else { continue }
            result[name, default: []].append(value)
        }
        return result
    }

    private static func unescape(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
