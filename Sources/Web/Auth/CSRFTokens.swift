/// The anti-CSRF tokens forms carry and state-changing requests must present.
///
/// A token is bound to whoever may use it: an HMAC-SHA-256, under a secret made once per process,
/// of the signed-in username and the digest realm. A token served to one identity is therefore
/// refused for any other, and the same user gets the same token on every page, so several tabs
/// keep working. Without credentials configured there is one identity, the local operator (see
/// `WebState.csrfToken(for:)` for who counts as one); its token is bound to no username and is
/// refused once credentials are set. Another site can read no token (same-origin policy), so it
/// cannot forge a form that carries one. The rules are summed up in README's web section.
struct CSRFTokens: Sendable {
    private let secret: [UInt8]

    init() {
        var generator = SystemRandomNumberGenerator()
        secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// For tests and previews: tokens that are the same in every run.
    init(secret: String) { self.secret = Array(secret.utf8) }

    /// The token of `username` (nil: the operator of a dashboard without credentials) in `realm`.
    func token(for username: String?, realm: String) -> String {
        // The tags keep "no user" and a user of any name apart; NUL separates the fields.
        let message = username.map { "user\u{0}\($0)\u{0}\(realm)" } ?? "unauthenticated-operator\u{0}\(realm)"
        return Array(SHA256.hmac(key: secret, message: Array(message.utf8)).prefix(20)).hexString
    }

    /// Whether `candidate` is `username`'s token in `realm`.
    func matches(_ candidate: String?, for username: String?, realm: String) -> Bool {
        guard let candidate else { return false }
        return constantTimeEquals(candidate, token(for: username, realm: realm))
    }
}
