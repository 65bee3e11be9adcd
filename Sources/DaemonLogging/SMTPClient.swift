import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A small SMTP client (RFC 5321): EHLO (HELO as fallback), STARTTLS when the server offers it,
/// AUTH PLAIN or LOGIN when a user is set, one message, QUIT. Built on SwiftNIO so STARTTLS can
/// put a TLS handler in front of the running conversation.
public struct SMTPClient: MailTransport {
    /// Trust and verification for STARTTLS; by default the system's roots and full verification.
    public var tls: TLSConfiguration
    /// The name EHLO announces.
    public var heloName: String

    public init(tls: TLSConfiguration = .makeClientConfiguration(), heloName: String? = nil) {
        self.tls = tls
        self.heloName = heloName ?? SMTPClient.localHostName()
    }

    public func send(_ message: MailMessage, with settings: EmailSettings) async throws {
        try message.validate()
        let timeout = max(settings.timeout, 0.1)
        let timeoutNanos = Int64(timeout * 1_000_000_000)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(timeoutNanos))
                .connect(host: settings.server, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch let error as ChannelError {
            if case .connectTimeout = error { throw MailError.timedOut(timeout) }
            throw error
        }
        let conversation = SMTPConversation(message: message, settings: settings, tls: tls, heloName: heloName)
        // The whole conversation shares one deadline: on expiry the connection is closed, which
        // ends any read in progress.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var replies = SMTPReplyReader(inbound.makeAsyncIterator())
                    try await conversation.run(replies: &replies, outbound: outbound, channel: channel.channel)
                }
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeoutNanos))
                channel.channel.close(promise: nil)
                throw MailError.timedOut(timeout)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    static func localHostName() -> String {
        let name = ProcessInfo.processInfo.hostName
        return name.isEmpty || name.contains(" ") ? "localhost" : name
    }
}

/// One SMTP exchange, command by command.
struct SMTPConversation: Sendable {
    let message: MailMessage
    let settings: EmailSettings
    let tls: TLSConfiguration
    let heloName: String

    func run(replies: inout SMTPReplyReader, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) async throws {
        try (await replies.next(stage: "before its greeting")).expect(220, after: "the connection")
        var extensions = try await greet(replies: &replies, outbound: outbound)
        if settings.startTLS == .whenOffered, extensions.keys.contains("STARTTLS") {
            try await command("STARTTLS", replies: &replies, outbound: outbound).expect(220, after: "STARTTLS")
            guard replies.isEmpty else {
                throw MailError.tls("the server sent data after its STARTTLS reply (refusing a possible injection)")
            }
            try await upgrade(channel)
            do {
                extensions = try await greet(replies: &replies, outbound: outbound)
            } catch let error as MailError {
                throw error
            } catch {
                // A failed handshake closes the channel; which error surfaces first (the TLS alert
                // or the write to the closed channel) depends on timing, and both mean the same.
                throw MailError.tls("the TLS handshake failed or the server closed the connection: \(error)")
            }
        }
        if let user = settings.user {
            try await authenticate(user: user, password: settings.password ?? "", offered: extensions["AUTH"] ?? "",
                                   replies: &replies, outbound: outbound)
        }
        try await command("MAIL FROM:<\(message.from)>", replies: &replies, outbound: outbound).expect(250, after: "MAIL FROM")
        for recipient in message.to {
            let reply = try await command("RCPT TO:<\(recipient)>", replies: &replies, outbound: outbound)
            try reply.expect([250, 251], after: "RCPT TO:<\(recipient)>")
        }
        try await command("DATA", replies: &replies, outbound: outbound).expect(354, after: "DATA")
        try await write(message.dataSection() + ".\r\n", outbound)
        try (await replies.next(stage: "after the message")).expect(250, after: "the message")
        // The mail is accepted; a server that drops the line instead of answering QUIT is fine.
        _ = try? await command("QUIT", replies: &replies, outbound: outbound)
    }

    /// EHLO, or HELO from a server that does not know EHLO; returns the EHLO keywords and their parameters.
    private func greet(replies: inout SMTPReplyReader, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> [String: String] {
        let ehlo = try await command("EHLO \(heloName)", replies: &replies, outbound: outbound)
        if ehlo.code == 250 {
            var extensions: [String: String] = [:]
            for line in ehlo.lines.dropFirst() {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard let keyword = parts.first else { continue }
                extensions[keyword.uppercased()] = parts.count > 1 ? String(parts[1]).uppercased() : ""
            }
            return extensions
        }
        try await command("HELO \(heloName)", replies: &replies, outbound: outbound).expect(250, after: "HELO")
        return [:]
    }

    private func authenticate(user: String, password: String, offered: String, replies: inout SMTPReplyReader,
                              outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        let mechanisms = Set(offered.split(separator: " ").map(String.init))
        if mechanisms.contains("PLAIN") {
            let token = Data("\0\(user)\0\(password)".utf8).base64EncodedString()
            try await command("AUTH PLAIN \(token)", replies: &replies, outbound: outbound, logged: "AUTH PLAIN").expect(235, after: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            try await command("AUTH LOGIN", replies: &replies, outbound: outbound).expect(334, after: "AUTH LOGIN")
            try await command(Data(user.utf8).base64EncodedString(), replies: &replies, outbound: outbound, logged: "the user name")
                .expect(334, after: "the AUTH LOGIN user name")
            try await command(Data(password.utf8).base64EncodedString(), replies: &replies, outbound: outbound, logged: "the password")
                .expect(235, after: "the AUTH LOGIN password")
        } else {
            throw MailError.noUsableAuthMechanism(offered: offered)
        }
    }

    /// Puts a TLS client handler in front of the conversation's handler; the handshake starts at once.
    private func upgrade(_ channel: any Channel) async throws {
        let tls = tls
        let host = settings.server
        do {
            try await channel.eventLoop.submit {
                let context = try NIOSSLContext(configuration: tls)
                let handler = try NIOSSLClientHandler(context: context, serverHostname: SMTPConversation.isIPAddress(host) ? nil : host)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw MailError.tls("\(error)")
        }
    }

    private func command(_ text: String, replies: inout SMTPReplyReader, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
                         logged: String? = nil) async throws -> SMTPReply {
        try await write(text + "\r\n", outbound)
        do {
            return try await replies.next(stage: "after \(logged ?? text)")
        } catch let error as NIOSSLError {
            throw MailError.tls("\(error)")
        }
    }

    private func write(_ text: String, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// One SMTP reply: a three-digit code and its text lines (several for "250-..." continuations).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " / ") }

    func expect(_ code: Int, after command: String) throws(MailError) {
        try expect([code], after: command)
    }

    func expect(_ codes: Set<Int>, after command: String) throws(MailError) {
        guard codes.contains(code) else { throw MailError.rejected(command: command, code: code, text: text) }
    }

    /// Parses one reply line into (code, is-last, text).
    static func parseLine(_ line: String) throws(MailError) -> (code: Int, last: Bool, text: String) {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(code) else {
            throw MailError.malformedReply(line)
        }
        if bytes.count == 3 { return (code, true, "") }
        guard bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-") else { throw MailError.malformedReply(line) }
        return (code, bytes[3] == UInt8(ascii: " "), String(decoding: bytes[4...], as: UTF8.self))
    }
}

/// Splits the server's bytes into replies.
struct SMTPReplyReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var buffer: [UInt8] = []
    /// A server talking without end is cut off: no legitimate reply line is this long.
    static let maximumLine = 4096

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    /// True when nothing is buffered past the last reply.
    var isEmpty: Bool { buffer.isEmpty }

    mutating func next(stage: String) async throws -> SMTPReply {
        var lines: [String] = []
        var code: Int?
        while true {
            let line = try await nextLine(stage: stage)
            let parsed = try SMTPReply.parseLine(line)
            if let code, code != parsed.code { throw MailError.malformedReply(line) }
            code = parsed.code
            lines.append(parsed.text)
            if parsed.last { return SMTPReply(code: parsed.code, lines: lines) }
        }
    }

    private mutating func nextLine(stage: String) async throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count <= SMTPReplyReader.maximumLine else {
                throw MailError.malformedReply(String(decoding: buffer.prefix(80), as: UTF8.self) + "...")
            }
            guard var chunk = try await iterator.next() else { throw MailError.connectionClosed(stage) }
            buffer += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
    }
}
