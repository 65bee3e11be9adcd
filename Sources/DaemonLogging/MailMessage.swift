import Foundation

/// Where and how CRITICAL records are mailed: conf.lua's `EMAIL_*` settings.
public struct EmailSettings: Sendable, Equatable {
    public enum StartTLS: Sendable, Equatable {
        /// Upgrade with STARTTLS whenever the server's EHLO reply offers it (the default).
        case whenOffered
        /// Stay in plain text (tests, or a relay whose certificate cannot be verified).
        case never
    }

    public var server: String
    public var port: Int
    /// Bounds the connection and the whole conversation for one mail (EMAIL_TIMEOUT).
    public var timeout: Double
    public var source: String
    public var destinations: [String]
    public var subject: String
    public var user: String?
    public var password: String?
    public var startTLS: StartTLS

    public init(server: String, port: Int = 25, timeout: Double = 4, source: String, destinations: [String],
                subject: String = "staticDHCPd encountered a problem", user: String? = nil, password: String? = nil,
                startTLS: StartTLS = .whenOffered) {
        self.server = server
        self.port = port
        self.timeout = timeout
        self.source = source
        self.destinations = destinations
        self.subject = subject
        self.user = user
        self.password = password
        self.startTLS = startTLS
    }

    /// `EMAIL_DESTINATION` may list several addresses separated by commas.
    public static func destinations(from setting: String) -> [String] {
        setting.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// One mail: envelope and RFC 5322 text.
public struct MailMessage: Sendable, Equatable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public var date: Date

    public init(from: String, to: [String], subject: String, body: String, date: Date = Date()) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
    }

    /// Addresses go into SMTP commands and headers, so anything that could end a line or an
    /// angle-bracket path is refused rather than sent.
    public func validate() throws(MailError) {
        for (what, address) in [("EMAIL_SOURCE", from)] + to.map({ ("EMAIL_DESTINATION", $0) }) {
            if address.isEmpty || address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" || $0 == " " }) {
                throw MailError.badAddress("\(what) '\(address)' is not a plain e-mail address")
            }
        }
        if to.isEmpty { throw MailError.badAddress("EMAIL_DESTINATION names no address") }
    }

    /// Headers and body with CRLF line ends and leading dots doubled, ready for DATA (without
    /// the final "." line).
    public func dataSection() -> String {
        var lines = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(MailMessage.encodedHeader(subject))",
            "Date: \(MailMessage.rfc5322Date(date))",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        let bodyLines = body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        lines += bodyLines.map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A header value on one line; non-ASCII text as an RFC 2047 encoded word.
    static func encodedHeader(_ value: String) -> String {
        let oneLine = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if oneLine.unicodeScalars.allSatisfy({ $0.isASCII }) { return oneLine }
        return "=?utf-8?b?\(Data(oneLine.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date) -> String {
        LogTime.rfc5322(date)
    }
}

/// Why a mail was not delivered.
public enum MailError: Error, CustomStringConvertible, Equatable {
    case badAddress(String)
    case timedOut(Double)
    case connectionClosed(String)
    case malformedReply(String)
    /// The server answered `code` where another was expected.
    case rejected(command: String, code: Int, text: String)
    case noUsableAuthMechanism(offered: String)
    case tls(String)

    public var description: String {
        switch self {
        case .badAddress(let text): text
        case .timedOut(let seconds): "no answer within EMAIL_TIMEOUT (\(seconds) s)"
        case .connectionClosed(let stage): "the SMTP server closed the connection \(stage)"
        case .malformedReply(let line): "malformed SMTP reply '\(line)'"
        case .rejected(let command, let code, let text): "the SMTP server answered \(command) with \(code) \(text)"
        case .noUsableAuthMechanism(let offered): "EMAIL_USER is set but the SMTP server offers neither AUTH PLAIN nor AUTH LOGIN (offered: \(offered.isEmpty ? "no AUTH" : offered))"
        case .tls(let text): "STARTTLS failed: \(text)"
        }
    }
}

/// The seam between the mail policy and the wire, so tests can count and fail deliveries.
public protocol MailTransport: Sendable {
    func send(_ message: MailMessage, with settings: EmailSettings) async throws
}
