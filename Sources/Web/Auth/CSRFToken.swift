/// The anti-CSRF token embedded in every form and required on every state-changing POST.
/// One random token per process: another site cannot read it (same-origin policy), so it cannot
/// forge a form that carries it. JSON API calls are protected instead by requiring a JSON body
/// or this token in `X-CSRF-Token`, both of which a cross-site form cannot send.
struct CSRFToken: Sendable {
    let value: String

    init() {
        var generator = SystemRandomNumberGenerator()
        value = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
    }

    init(fixed value: String) { self.value = value }

    func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        return constantTimeEquals(candidate, value)
    }
}
