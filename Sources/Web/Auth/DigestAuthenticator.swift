import Foundation

/// HTTP digest authentication (RFC 7616) with MD5 and SHA-256 (and their -sess variants), qop=auth.
///
/// Nonces are stateless: `<issued-seconds>.<random>.<HMAC>` under a per-process secret, so issuing a
/// challenge costs no memory and unauthenticated clients cannot grow server state. A nonce stays valid
/// for `lifetime`; within it the client reuses it with an increasing nonce count (nc), and each
/// (nonce, nc) pair is accepted once. Only nonces that authenticated successfully are tracked.
/// A request whose digest is right but whose nonce expired (or came from an earlier process) gets
/// `stale=true`, so the browser retries silently instead of asking for the password again.
actor DigestAuthenticator {
    enum Verdict: Equatable {
        case authenticated
        case challenge(stale: Bool)
    }

    private let username: String
    private let password: String
    let realm: String
    private let lifetime: Duration
    private let now: @Sendable () -> Date
    private let secret: [UInt8]
    let opaque: String
    /// Nonce counts already used, per nonce that has authenticated, with the nonce's issue time.
    private var seenCounts: [String: (issued: Date, counts: Set<UInt32>)] = [:]
    private static let maximumCountsPerNonce = 100_000

    init(username: String, password: String, realm: String, lifetime: Duration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.username = username
        self.password = password
        self.realm = realm
        self.lifetime = lifetime
        self.now = now
        var generator = SystemRandomNumberGenerator()
        self.secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.opaque = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
    }

    /// The `WWW-Authenticate` values of a challenge: SHA-256 first (preferred), then MD5.
    func challenges(stale: Bool) -> [String] {
        let nonce = makeNonce()
        return ["SHA-256", "MD5"].map { algorithm in
            var value = "Digest realm=\"\(quoted(realm))\", qop=\"auth\", algorithm=\(algorithm), nonce=\"\(nonce)\", opaque=\"\(opaque)\""
            if stale { value += ", stale=true" }
            return value
        }
    }

    /// Checks an `Authorization` header for `method` and the request target `uri`.
    func verify(authorization: String?, method: String, uri: String) -> Verdict {
        purgeExpired()
        guard let authorization, let fields = DigestFields.parse(authorization) else { return .challenge(stale: false) }
        guard let user = fields["username"], let nonce = fields["nonce"], let clientURI = fields["uri"],
              let response = fields["response"]?.lowercased(), fields["realm"] == realm,
              fields["qop"]?.lowercased() == "auth", let cnonce = fields["cnonce"],
              let ncText = fields["nc"], ncText.count == 8, let count = UInt32(ncText, radix: 16)
        else { return .challenge(stale: false) }
        if let clientOpaque = fields["opaque"], clientOpaque != opaque { return .challenge(stale: false) }
        guard clientURI == uri else { return .challenge(stale: false) }

        let algorithmName = (fields["algorithm"] ?? "MD5").uppercased()
        let hash: HashFunction
        let session: Bool
        switch algorithmName {
        case "MD5": (hash, session) = (.md5, false)
        case "MD5-SESS": (hash, session) = (.md5, true)
        case "SHA-256": (hash, session) = (.sha256, false)
        case "SHA-256-SESS": (hash, session) = (.sha256, true)
        default: return .challenge(stale: false)
        }
        var ha1 = hash.hex("\(username):\(realm):\(password)")
        if session { ha1 = hash.hex("\(ha1):\(nonce):\(cnonce)") }
        let ha2 = hash.hex("\(method):\(clientURI)")
        let expected = hash.hex("\(ha1):\(nonce):\(ncText.lowercased()):\(cnonce):auth:\(ha2)")
        guard constantTimeEquals(user, username), constantTimeEquals(response, expected) else {
            return .challenge(stale: false)
        }
        // The credentials are right; now the nonce must be ours, fresh, and this count unused.
        guard let issued = issueTime(ofValidNonce: nonce), now().timeIntervalSince(issued) <= lifetime.seconds else {
            return .challenge(stale: true)
        }
        var entry = seenCounts[nonce] ?? (issued: issued, counts: [])
        guard !entry.counts.contains(count), entry.counts.count < Self.maximumCountsPerNonce else {
            return .challenge(stale: entry.counts.count >= Self.maximumCountsPerNonce)
        }
        entry.counts.insert(count)
        seenCounts[nonce] = entry
        return .authenticated
    }

    func makeNonce() -> String {
        let issued = String(Int(now().timeIntervalSince1970), radix: 16)
        var generator = SystemRandomNumberGenerator()
        let random = (0..<12).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
        return "\(issued).\(random).\(signature(issued: issued, random: random))"
    }

    private func signature(issued: String, random: String) -> String {
        Array(SHA256.hmac(key: secret, message: Array("\(issued).\(random)".utf8)).prefix(16)).hexString
    }

    /// The issue time of a nonce this process made, or nil for a forged or foreign one.
    private func issueTime(ofValidNonce nonce: String) -> Date? {
        let parts = nonce.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let seconds = Int(parts[0], radix: 16),
              constantTimeEquals(parts[2], signature(issued: parts[0], random: parts[1]))
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private func purgeExpired() {
        let current = now()
        seenCounts = seenCounts.filter { current.timeIntervalSince($0.value.issued) <= lifetime.seconds }
    }

    private func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// The `name=value` pairs of a `Digest` credentials header (values may be tokens or quoted strings).
enum DigestFields {
    static func parse(_ header: String) -> [String: String]? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "digest " else { return nil }
        var characters = Array(trimmed.dropFirst(7))
        characters.append(",")
        var fields: [String: String] = [:]
        var index = 0
        func skipSpaces() { while index < characters.count, characters[index] == " " || characters[index] == "\t" { index += 1 } }
        while index < characters.count {
            skipSpaces()
            if index < characters.count, characters[index] == "," { index += 1; continue }
            var name = ""
            while index < characters.count, characters[index] != "=", characters[index] != "," {
                name.append(characters[index]); index += 1
            }
            guard index < characters.count, characters[index] == "=" else { return nil }
            index += 1
            skipSpaces()
            var value = ""
            if index < characters.count, characters[index] == "\"" {
                index += 1
                var closed = false
                while index < characters.count {
                    let character = characters[index]
                    index += 1
                    if character == "\\", index < characters.count {
                        value.append(characters[index]); index += 1
                    } else if character == "\"" {
                        closed = true; break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
            } else {
                while index < characters.count, characters[index] != "," { value.append(characters[index]); index += 1 }
                value = value.trimmingCharacters(in: .whitespaces)
            }
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard !key.isEmpty, fields[key] == nil else { return nil }
            fields[key] = value
            skipSpaces()
            guard index < characters.count, characters[index] == "," else { return nil }
            index += 1
        }
        return fields
    }
}
