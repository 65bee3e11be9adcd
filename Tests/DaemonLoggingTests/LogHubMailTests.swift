import Foundation
import Logging
import Synchronization
import Testing
@testable import DaemonLogging

/// A transport that records messages, optionally fails or stalls.
final class FakeTransport: MailTransport {
    let sent = Mutex<[MailMessage]>([])
    let attempts = Atomic<Int>(0)
    let failing = Atomic<Bool>(false)
    let delayMilliseconds: Int

    init(failing: Bool = false, delayMilliseconds: Int = 0) {
        self.failing.store(failing, ordering: .relaxed)
        self.delayMilliseconds = delayMilliseconds
    }

    func send(_ message: MailMessage, with settings: EmailSettings) async throws {
        attempts.add(1, ordering: .relaxed)
        if delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(delayMilliseconds)) }
        if failing.load(ordering: .relaxed) { throw MailError.connectionClosed("(test)") }
        sent.withLock { $0.append(message) }
    }
}

func emailSettings(port: Int = 25, timeout: Double = 4) -> EmailSettings {
    EmailSettings(server: "127.0.0.1", port: port, timeout: timeout, source: "dhcp@example.org",
                  destinations: ["ops@example.org"], subject: "staticDHCPd encountered a problem")
}

/// `mailInterval` 0 mails every record, as these tests of the mailer itself want; the throttle
/// has its own tests below.
func hubConfiguration(email: EmailSettings?, mailInterval: TimeInterval = 0) -> LogHub.Configuration {
    var configuration = LogHub.Configuration()
    configuration.consoleLevel = nil
    configuration.email = email
    configuration.mailInterval = mailInterval
    return configuration
}

func waitUntil(seconds: Double = 5, _ condition: () -> Bool) async {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
}

@Suite(.serialized)
struct LogHubMailTests {
    @Test func criticalRecordArrivesAtTheSinkWithSubjectAndBody() async throws {
        let sink = try SMTPSink()
        let hub = LogHub(configuration: hubConfiguration(email: emailSettings(port: sink.port)))
        hub.log(LogRecord(time: Date(), level: .error, logger: "dhcp", message: "only an error"))
        hub.log(LogRecord(time: Date(), level: .critical, logger: "dhcp", message: "Unable to handle DISCOVER: boom"))
        let mails = await sink.waitForMails(1)
        #expect(mails.count == 1)
        let mail = try #require(mails.first)
        #expect(mail.subject == "staticDHCPd encountered a problem")
        #expect(mail.body.contains(" : CRITICAL : Unable to handle DISCOVER: boom"))
        #expect(mail.body.contains("logger 'dhcp'"))
        #expect(hub.flushMail(seconds: 5))
        try await Task.sleep(for: .milliseconds(200))
        #expect(sink.mails().count == 1, "the ERROR record is not mailed")
    }

    @Test func noMailWithoutEmailSettings() async throws {
        let transport = FakeTransport()
        let hub = LogHub(configuration: hubConfiguration(email: nil), mailTransport: transport)
        hub.log(LogRecord(time: Date(), level: .critical, logger: "main", message: "x"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(transport.attempts.load(ordering: .relaxed) == 0)
        hub.reconfigure(hubConfiguration(email: emailSettings()))
        hub.log(LogRecord(time: Date(), level: .critical, logger: "main", message: "y"))
        #expect(hub.flushMail(seconds: 5))
        #expect(transport.sent.withLock { $0.map(\.body) }.count == 1)
    }

    @Test func failuresAreLoggedOnceAndNeverMailed() async throws {
        let transport = FakeTransport(failing: true)
        let hub = LogHub(configuration: hubConfiguration(email: emailSettings()), mailTransport: transport)
        for index in 0..<5 {
            hub.log(LogRecord(time: Date(), level: .critical, logger: "dhcp", message: "failure \(index)"))
        }
        #expect(hub.flushMail(seconds: 5))
        // Five attempts: the failure reports (ERROR) caused no further mail.
        #expect(transport.attempts.load(ordering: .relaxed) == 5)
        let reports = hub.recentRecords().filter { $0.message.hasPrefix("E-mail of CRITICAL records") }
        #expect(reports.count == 1)
        #expect(reports.first?.level == .error)
        #expect(reports.first?.message.contains("failed") == true)

        transport.failing.store(false, ordering: .relaxed)
        hub.log(LogRecord(time: Date(), level: .critical, logger: "dhcp", message: "after recovery"))
        #expect(hub.flushMail(seconds: 5))
        await waitUntil { hub.recentRecords().contains { $0.message.contains("works again") } }
        let recovered = hub.recentRecords().first { $0.message.contains("works again") }
        #expect(recovered?.level == .warning)
        #expect(recovered?.message.contains("5 mails could not be sent") == true)
        #expect(transport.sent.withLock { $0.count } == 1)
    }

    @Test func loggingNeverWaitsForTheMailServer() async throws {
        let transport = FakeTransport(delayMilliseconds: 300)
        let hub = LogHub(configuration: hubConfiguration(email: emailSettings()), mailTransport: transport)
        let started = ContinuousClock.now
        for index in 0..<10 {
            hub.log(LogRecord(time: Date(), level: .critical, logger: "dhcp", message: "slow \(index)"))
        }
        #expect(ContinuousClock.now - started < .milliseconds(100))
        #expect(hub.mailsWaiting > 0)
    }

    @Test func aBurstOfCriticalRecordsIsOneMailThenOneDigest() async throws {
        let transport = FakeTransport()
        let hub = LogHub(configuration: hubConfiguration(email: emailSettings(), mailInterval: 0.3), mailTransport: transport)
        for index in 0..<100 {
            hub.log(LogRecord(time: Date(), level: .critical, logger: "dhcp", message: "loadDHCPPacket failed \(index)"))
        }
        await waitUntil { transport.sent.withLock { $0.count } >= 2 }
        let bodies = transport.sent.withLock { $0.map(\.body) }
        #expect(bodies.count == 2, "\(bodies.count) mails")
        #expect(bodies.first?.contains("loadDHCPPacket failed 0") == true)
        let digest = bodies.dropFirst().first ?? ""
        #expect(digest.hasPrefix("99 more CRITICAL records in the 0 s since the last mail:"))
        #expect(digest.contains("loadDHCPPacket failed 1\n"))
        #expect(digest.contains("... and 49 more (see the log)"))
        #expect(!digest.contains("loadDHCPPacket failed 99"))
    }

    @Test func recordsHeldForTheDigestAreMailedAtExit() async throws {
        let transport = FakeTransport()
        let hub = LogHub(configuration: hubConfiguration(email: emailSettings(), mailInterval: 3600), mailTransport: transport)
        hub.log(LogRecord(time: Date(), level: .critical, logger: "main", message: "first"))
        hub.log(LogRecord(time: Date(), level: .critical, logger: "main", message: "second"))
        #expect(hub.flushMail(seconds: 5))
        let bodies = transport.sent.withLock { $0.map(\.body) }
        #expect(bodies.count == 2)
        #expect(bodies.last?.contains("1 more CRITICAL record in the 3600 s since the last mail:") == true)
        #expect(bodies.last?.contains("second") == true)
    }

    @Test func aFullQueueDropsAndSaysSo() async throws {
        let transport = FakeTransport(delayMilliseconds: 50)
        let mailer = CriticalMailer(transport: transport, capacity: 2)
        let events = Mutex<[CriticalMailer.Event]>([])
        var accepted = 0
        for index in 0..<5 {
            let message = MailMessage(from: "a@example.org", to: ["b@example.org"], subject: "s", body: "\(index)")
            if mailer.submit(message, settings: emailSettings(), report: { event in events.withLock { $0.append(event) } }) {
                accepted += 1
            }
        }
        #expect(accepted == 2)
        #expect(events.withLock { $0 } == [.dropped(count: 1)])
        #expect(mailer.waitUntilIdle(seconds: 5))
        #expect(transport.sent.withLock { $0.count } == 2)
    }
}
