import DHCPWire
import Foundation

extension DatabaseConfiguration {
    /// `X_HTTPDB_*`: the HTTP engine's settings (the original's httpdb extension, built in).
    ///
    /// Plain values as conf.lua gave them; `HTTPDatabase.Plan` checks them and reports each
    /// mistake under its conf.lua name.
    public struct HTTP: Sendable, Equatable {
        /// `X_HTTPDB_URI`: where lookups are sent (http:// or https://). Required.
        public var uri: String?
        /// `X_HTTPDB_HEADERS`: sent with every request (they win over our Accept/Content-Type).
        public var headers: [String: String] = [:]
        /// `X_HTTPDB_PARAMETERS`: sent with every request beside the MAC.
        public var parameters: [String: ExtraValue] = [:]
        /// `X_HTTPDB_PARAMETER_KEY_MAC`: the name the MAC is sent under.
        public var macKey = "mac"
        /// `X_HTTPDB_POST`: true POSTs a JSON object; false GETs with a query string.
        public var post = true
        /// `X_HTTPDB_DEFAULT_NAME_SERVERS`: comma-separated, for answers without domain_name_servers.
        public var defaultNameServers = ""
        /// `X_HTTPDB_DEFAULT_LEASE_TIME`: seconds, for answers without lease_time.
        public var defaultLeaseTime = 0
        /// `X_HTTPDB_DEFAULT_SERIAL`: for answers without serial.
        public var defaultSerial = 0
        /// `X_HTTPDB_CONCURRENCY_LIMIT`: requests in flight at once; nil is unbounded.
        public var concurrencyLimit: Int?
        /// Seconds one request may take, connecting included: a backstop for when
        /// `DATABASE_TIMEOUT` is off, so a silent service cannot hold lookups forever.
        public var requestTimeout: Double = 30
        /// The largest answer accepted, in bytes.
        public var maximumAnswerBytes = 1 << 20

        public init() {}
    }
}

extension HTTPDatabase {
    /// The checked form of `DatabaseConfiguration.HTTP`: everything a lookup needs, ready to use.
    struct Plan: Sendable {
        /// The URI without user and password: requests go there, and logs and errors name it.
        let uri: String
        /// User and password from the URI, sent as HTTP Basic authentication.
        let basicAuth: (user: String, password: String)?
        let headers: [(name: String, value: String)]
        let parameters: [(key: String, value: ExtraValue)]
        let macKey: String
        let post: Bool
        let defaults: HTTPDefinitionDecoder.Defaults
        let concurrencyLimit: Int?
        let requestTimeout: Double
        let maximumAnswerBytes: Int

        init(_ settings: DatabaseConfiguration.HTTP) throws {
            guard let uri = settings.uri?.trimmingCharacters(), !uri.isEmpty else {
                throw DatabaseError.configuration("DATABASE_ENGINE 'HTTP' needs X_HTTPDB_URI, which is not set")
            }
            guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(),
                  scheme == "http" || scheme == "https"
            else {
                throw DatabaseError.configuration("X_HTTPDB_URI '\(uri)' is not an http:// or https:// URI")
            }
            guard let host = components.host, !host.isEmpty else {
                throw DatabaseError.configuration("X_HTTPDB_URI '\(uri)' names no host")
            }
            if let port = components.port, !(1...65535).contains(port) {
                throw DatabaseError.configuration("X_HTTPDB_URI '\(uri)': \(port) is not a TCP port")
            }
            basicAuth = components.user.map { ($0, components.password ?? "") }
            var bare = components
            bare.user = nil
            bare.password = nil
            self.uri = bare.string ?? uri

            headers = try settings.headers.sorted { $0.key < $1.key }.map { name, value in
                guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                    throw DatabaseError.configuration("X_HTTPDB_HEADERS: '\(name)' is not a valid HTTP header name")
                }
                guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                    throw DatabaseError.configuration("X_HTTPDB_HEADERS: the value of '\(name)' contains a line break or NUL")
                }
                return (name, value)
            }

            guard !settings.macKey.isEmpty else {
                throw DatabaseError.configuration("X_HTTPDB_PARAMETER_KEY_MAC must not be empty")
            }
            macKey = settings.macKey
            if settings.parameters[settings.macKey] != nil {
                throw DatabaseError.configuration(
                    "X_HTTPDB_PARAMETERS has a key '\(settings.macKey)', which X_HTTPDB_PARAMETER_KEY_MAC reserves for the MAC")
            }
            post = settings.post
            parameters = try settings.parameters.sorted { $0.key < $1.key }.map { key, value in
                if !settings.post, !value.isScalar {
                    throw DatabaseError.configuration(
                        "X_HTTPDB_PARAMETERS: '\(key)' is a table, which a GET query string (X_HTTPDB_POST = false) cannot carry")
                }
                return (key, value)
            }

            guard (0...Int(UInt32.max)).contains(settings.defaultLeaseTime) else {
                throw DatabaseError.configuration(
                    "X_HTTPDB_DEFAULT_LEASE_TIME \(settings.defaultLeaseTime) is not a lease time (0...\(UInt32.max) seconds)")
            }
            var nameServers: [IPv4] = []
            if !settings.defaultNameServers.allSatisfy(\.isWhitespace) {
                for piece in settings.defaultNameServers.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let address = IPv4(piece) else {
                        throw DatabaseError.configuration(
                            "X_HTTPDB_DEFAULT_NAME_SERVERS: '\(piece.trimmingCharacters())' is not an IPv4 address")
                    }
                    nameServers.append(address)
                }
            }
            defaults = HTTPDefinitionDecoder.Defaults(
                leaseTime: UInt32(settings.defaultLeaseTime), serial: settings.defaultSerial, nameServers: nameServers)

            if let limit = settings.concurrencyLimit, limit < 1 {
                throw DatabaseError.configuration("X_HTTPDB_CONCURRENCY_LIMIT must be at least 1 (or nil for no limit), not \(limit)")
            }
            concurrencyLimit = settings.concurrencyLimit
            guard settings.requestTimeout > 0, settings.requestTimeout.isFinite else {
                throw DatabaseError.configuration("the HTTP request timeout must be a positive number of seconds")
            }
            requestTimeout = settings.requestTimeout
            maximumAnswerBytes = max(settings.maximumAnswerBytes, 1)
        }

        /// RFC 9110 token characters: what a header name may be made of.
        private static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
            }
        }
    }
}

extension ExtraValue {
    var isScalar: Bool {
        switch self {
        case .string, .integer, .double, .bool: true
        case .list, .table: false
        }
    }
}
