import AsyncHTTPClient
import DHCPWire
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// `DATABASE_ENGINE = "HTTP"`: asks a REST/JSON service for each MAC (the original's httpdb
/// extension, built in).
///
/// A lookup POSTs `{"<X_HTTPDB_PARAMETER_KEY_MAC>": "aa:bb:cc:dd:ee:ff", ...X_HTTPDB_PARAMETERS}`
/// as JSON, or with `X_HTTPDB_POST = false` GETs the same pairs as a query string, sending
/// `X_HTTPDB_HEADERS` either way. `HTTPDefinitionDecoder` reads the answer. 404 (and 204, null,
/// an empty body) means the MAC is unknown; any other non-2xx status, a connection failure or a
/// bad answer throws a `DatabaseError` naming the service, so the engine drops that request
/// with one log line and the next lookup asks again.
///
/// `X_HTTPDB_CONCURRENCY_LIMIT` bounds the requests in flight; later lookups queue in order.
/// The client keeps connections alive between lookups and reconnects by itself after a failure,
/// so a service that is down at start or restarts is picked up again without a reload.
public final class HTTPDatabase: Database {
    public var engineName: String { "HTTP" }

    let plan: Plan
    private let client: HTTPClient
    private let limiter: ConcurrencyLimiter?
    private let decoder: HTTPDefinitionDecoder
    private let logger: Logger

    public init(settings: DatabaseConfiguration.HTTP, logger: Logger) throws {
        let plan = try Plan(settings)
        self.plan = plan
        var configuration = HTTPClient.Configuration()
        // The client retries a refused connection until this runs out, so it is also how long a
        // lookup takes to fail while the service is down: short, as a DHCP client is waiting.
        configuration.timeout = .init(connect: .milliseconds(Int64(min(plan.requestTimeout, 2) * 1000)))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: min(plan.concurrencyLimit ?? 8, 64))
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration, backgroundActivityLogger: logger)
        limiter = plan.concurrencyLimit.map { ConcurrencyLimiter(limit: $0) }
        decoder = HTTPDefinitionDecoder(defaults: plan.defaults)
        self.logger = logger
    }

    /// Checks `settings` as building the engine would, without building it (`--check-config`).
    public static func check(_ settings: DatabaseConfiguration.HTTP) throws {
        _ = try Plan(settings)
    }

    deinit {
        // Closes pooled connections in the background; the client stays alive until that is done.
        client.shutdown { _ in }
    }

    /// The requests in flight and waiting, for tests and diagnostics (nil without a limit).
    var limiterLoad: (inFlight: Int, waiting: Int)? { limiter.map { ($0.inFlight, $0.waiting) } }

    public func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        guard let limiter else { return try await ask(for: mac) }
        return try await limiter.withPermit { try await ask(for: mac) }
    }

    /// Nothing is kept between lookups, so there is nothing to refresh.
    public func reinitialise() async throws {}

    private func ask(for mac: MAC) async throws -> [Definition] {
        let request = try makeRequest(for: mac)
        let body: ByteBuffer
        let status: HTTPResponseStatus
        do {
            let response = try await client.execute(
                request, timeout: .milliseconds(Int64(plan.requestTimeout * 1000)), logger: logger)
            status = response.status
            body = try await response.body.collect(upTo: plan.maximumAnswerBytes)
        } catch is CancellationError {
            throw CancellationError()
        } catch is NIOTooManyBytesError {
            throw DatabaseError.badAnswer(
                engine: engineName, source: plan.uri,
                reason: "for \(mac): the answer is larger than \(plan.maximumAnswerBytes) bytes")
        } catch {
            throw DatabaseError.unavailable(engine: engineName, reason: "\(plan.uri): \(Self.describe(error))")
        }
        if status == .notFound { return [] }
        guard (200..<300).contains(status.code) else {
            let answer = "\(plan.uri) answered \(status.code) \(status.reasonPhrase) for \(mac)\(Self.excerpt(body))"
            if let fix = Self.configurationFix(for: status.code, post: plan.post) {
                throw DatabaseError.schema(engine: engineName, reason: "\(answer); \(fix)")
            }
            throw DatabaseError.unavailable(engine: engineName, reason: answer)
        }
        do {
            return try decoder.definitions(from: Array(buffer: body))
        } catch {
            throw DatabaseError.badAnswer(engine: engineName, source: plan.uri, reason: "for \(mac): \(error.reason)")
        }
    }

    /// What to change when the service refuses the request itself rather than failing to answer
    /// it: nil for statuses that mean "try again later" (5xx, 408 Request Timeout, 429 Too Many
    /// Requests), which stay `unavailable`. A refusal comes back on every lookup until conf.lua or
    /// the service changes, so it is a configuration error, logged once per generation
    /// (docs/DEPLOYMENT.md, "The reservation tables").
    static func configurationFix(for status: UInt, post: Bool) -> String? {
        switch status {
        case 401, 407:
            "the service wants credentials: put them in X_HTTPDB_URI (user:password@) or X_HTTPDB_HEADERS"
        case 403:
            "the service refuses these credentials: check X_HTTPDB_URI's user and password and X_HTTPDB_HEADERS"
        case 405:
            post
                ? "the service does not take POST: set X_HTTPDB_POST = false to send a GET with a query string"
                : "the service does not take GET: set X_HTTPDB_POST = true to POST a JSON object"
        case 400, 406, 410, 411, 413, 414, 415, 422:
            "the service refuses the request's shape: check X_HTTPDB_URI, X_HTTPDB_POST, "
                + "X_HTTPDB_PARAMETERS and X_HTTPDB_PARAMETER_KEY_MAC against what it expects"
        case 408, 429:
            nil
        case 400..<500:
            "the service refuses the request: check the X_HTTPDB_* settings against what it expects"
        default:
            nil
        }
    }

    func makeRequest(for mac: MAC) throws -> HTTPClientRequest {
        let pairs = [(plan.macKey, ExtraValue.string(mac.description))] + plan.parameters
        var request: HTTPClientRequest
        if plan.post {
            request = HTTPClientRequest(url: plan.uri)
            request.method = .POST
            let object = JSONValue.object(Dictionary(pairs.map { ($0.0, JSONValue($0.1)) }, uniquingKeysWith: { first, _ in first }))
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = try encoder.encode(object)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        } else {
            let query = pairs.map { Self.percentEncoded($0.0) + "=" + Self.percentEncoded(Self.queryText($0.1)) }
                .joined(separator: "&")
            let separator = plan.uri.contains("?") ? (plan.uri.hasSuffix("?") || plan.uri.hasSuffix("&") ? "" : "&") : "?"
            request = HTTPClientRequest(url: plan.uri + separator + query)
            request.method = .GET
        }
        request.headers.add(name: "Accept", value: "application/json")
        if let (user, password) = plan.basicAuth { request.setBasicAuth(username: user, password: password) }
        for (name, value) in plan.headers {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        return request
    }

    /// A scalar parameter as query-string text (tables were refused when the settings were read).
    private static func queryText(_ value: ExtraValue) -> String {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list, .table: ""
        }
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(hex[Int(byte >> 4)])
                result.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return result
    }

    /// The start of an error page, on one line, so the log says what the service complained of.
    private static func excerpt(_ body: ByteBuffer) -> String {
        let text = String(buffer: body).split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters()
        guard !text.isEmpty else { return "" }
        return ": " + (text.count > 120 ? String(text.prefix(120)) + "..." : text)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connecting timed out"
            case .deadlineExceeded: return "no answer within the request time limit"
            case .remoteConnectionClosed: return "the service closed the connection before answering"
            case .readTimeout: return "reading the answer timed out"
            default: return error.description
            }
        }
        if let error = error as? IOError {
            return "cannot connect: " + String(cString: strerror(error.errnoCode))
        }
        return "\(error)"
    }
}
