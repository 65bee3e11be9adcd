import Foundation
import NIOSSL
import Testing
@testable import DaemonLogging

@Suite(.serialized)
struct SMTPClientTests {
    func settings(_ sink: SMTPSink, user: String? = nil, password: String? = nil, timeout: Double = 4,
                  startTLS: EmailSettings.StartTLS = .whenOffered) -> EmailSettings {
        EmailSettings(server: "127.0.0.1", port: sink.port, timeout: timeout, source: "dhcp@example.org",
                      destinations: ["ops@example.org", "oncall@example.org"], subject: "DHCP trouble",
                      user: user, password: password, startTLS: startTLS)
    }

    func message(_ body: String = "2026-01-01 : CRITICAL : the database is gone") -> MailMessage {
        MailMessage(from: "dhcp@example.org", to: ["ops@example.org", "oncall@example.org"], subject: "DHCP trouble", body: body)
    }

    @Test func deliversSubjectBodyAndEnvelope() async throws {
        let sink = try SMTPSink()
        try await SMTPClient().send(message("first line\n.leading dot\nlast line"), with: settings(sink))
        let mails = await sink.waitForMails(1)
        #expect(mails.count == 1)
        let mail = try #require(mails.first)
        #expect(mail.from == "<dhcp@example.org>")
        #expect(mail.to == ["<ops@example.org>", "<oncall@example.org>"])
        #expect(mail.subject == "DHCP trouble")
        #expect(mail.body == "first line\n.leading dot\nlast line")
        #expect(mail.data.contains("To: ops@example.org, oncall@example.org"))
        #expect(mail.tls == false)
        #expect(mail.auth == nil)
    }

    @Test func authenticatesWithPlain() async throws {
        let sink = try SMTPSink(["--auth", "mailer:s3cret", "--mechanisms", "PLAIN"])
        try await SMTPClient().send(message(), with: settings(sink, user: "mailer", password: "s3cret"))
        #expect(await sink.waitForMails(1).first?.auth == "PLAIN")
    }

    @Test func authenticatesWithLogin() async throws {
        let sink = try SMTPSink(["--auth", "mailer:s3cret", "--mechanisms", "LOGIN"])
        try await SMTPClient().send(message(), with: settings(sink, user: "mailer", password: "s3cret"))
        #expect(await sink.waitForMails(1).first?.auth == "LOGIN")
    }

    @Test func wrongPasswordIsRejected() async throws {
        let sink = try SMTPSink(["--auth", "mailer:s3cret"])
        await #expect(throws: MailError.rejected(command: "AUTH PLAIN", code: 535, text: "authentication failed")) {
            try await SMTPClient().send(message(), with: settings(sink, user: "mailer", password: "wrong"))
        }
        #expect(sink.mails().isEmpty)
    }

    @Test func userWithoutAuthOnTheServerIsAnError() async throws {
        let sink = try SMTPSink()
        await #expect(throws: MailError.noUsableAuthMechanism(offered: "")) {
            try await SMTPClient().send(message(), with: settings(sink, user: "mailer", password: "s3cret"))
        }
    }

    @Test func upgradesWithStartTLSWhenOffered() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = try TestCertificate.make(in: folder)
        let sink = try SMTPSink(["--tls-cert", certificate.certificate, "--tls-key", certificate.key,
                                 "--auth", "mailer:s3cret"])
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate.certificate))
        try await SMTPClient(tls: tls).send(message(), with: settings(sink, user: "mailer", password: "s3cret"))
        let mail = try #require(await sink.waitForMails(1).first)
        #expect(mail.tls == true)
        #expect(mail.auth == "PLAIN")

        // The same server with the system's trust roots: the self-signed certificate is refused
        // and nothing (certainly not the password) is sent in the clear instead.
        await #expect {
            try await SMTPClient().send(message(), with: settings(sink, user: "mailer", password: "s3cret"))
        } throws: { error in
            guard case MailError.tls = error else { return false }
            return true
        }
        #expect(sink.mails().count == 1)

        // STARTTLS can be turned off (a relay on the same host, say).
        let plainSink = try SMTPSink(["--tls-cert", certificate.certificate, "--tls-key", certificate.key])
        try await SMTPClient().send(message(), with: settings(plainSink, startTLS: .never))
        #expect(await plainSink.waitForMails(1).first?.tls == false)
    }

    @Test func silentServerTimesOut() async throws {
        let sink = try SMTPSink(["--silent"])
        let started = Date()
        await #expect(throws: MailError.timedOut(0.5)) {
            try await SMTPClient().send(message(), with: settings(sink, timeout: 0.5))
        }
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func refusedMailIsReported() async throws {
        let sink = try SMTPSink(["--reject-mail"])
        await #expect(throws: MailError.rejected(command: "MAIL FROM", code: 550, text: "mail refused by the test")) {
            try await SMTPClient().send(message(), with: settings(sink))
        }
    }

    @Test func fallsBackToHelo() async throws {
        let sink = try SMTPSink(["--no-ehlo"])
        try await SMTPClient().send(message(), with: settings(sink))
        #expect(await sink.waitForMails(1).count == 1)
    }

    @Test func closedPortFails() async throws {
        let sink = try SMTPSink()
        let port = sink.port
        sink.stop()
        var settings = settings(sink)
        settings.port = port
        await #expect(throws: (any Error).self) {
            try await SMTPClient().send(message(), with: settings)
        }
    }

    @Test func badAddressesAreRefusedBeforeConnecting() throws {
        var bad = message()
        bad.to = ["ops@example.org>\r\nRCPT TO:<evil@example.org"]
        #expect(throws: MailError.self) { try bad.validate() }
        bad.to = []
        #expect(throws: MailError.badAddress("EMAIL_DESTINATION names no address")) { try bad.validate() }
        #expect(EmailSettings.destinations(from: " a@example.org, b@example.org ,") == ["a@example.org", "b@example.org"])
    }

    @Test func replyLinesParse() throws {
        #expect(try SMTPReply.parseLine("250-STARTTLS") == (250, false, "STARTTLS"))
        #expect(try SMTPReply.parseLine("250 ok") == (250, true, "ok"))
        #expect(try SMTPReply.parseLine("221") == (221, true, ""))
        #expect(throws: MailError.malformedReply("hello")) { try SMTPReply.parseLine("hello") }
        #expect(throws: MailError.malformedReply("250xok")) { try SMTPReply.parseLine("250xok") }
    }

    @Test func nonASCIISubjectIsEncoded() {
        let text = MailMessage(from: "a@example.org", to: ["b@example.org"], subject: "Störung\r\nBcc: x", body: "b").dataSection()
        #expect(text.contains("Subject: =?utf-8?b?"))
        #expect(!text.contains("Bcc: x\r\n"))
    }
}
