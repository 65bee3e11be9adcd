import Foundation

/// Runs Tests/e2e/smtp_sink.py on 127.0.0.1 for one test and reads the mails it received.
final class SMTPSink {
    let process = Process()
    let directory: URL
    private(set) var port = 0

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("e2e/smtp_sink.py")
    }

    init(_ arguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SMTPSink.script.path, "--out", directory.appendingPathComponent("mail").path] + arguments
        process.standardOutput = output
        try process.run()
        // The first line is "PORT <n>".
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        guard let text = String(data: line, encoding: .utf8), text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            stop()
            throw SinkError("the SMTP sink did not start (python3 missing?)")
        }
        self.port = port
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL: a test runner may hand its blocked-signal mask to children, so SIGTERM could wait forever.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    struct Mail: Decodable {
        var from: String
        var to: [String]
        var data: String
        var tls: Bool
        var auth: String?

        var subject: String? {
            data.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst(9)) }
        }

        var body: String {
            guard let range = data.range(of: "\n\n") else { return "" }
            return String(data[range.upperBound...])
        }
    }

    /// The mails received so far, in order.
    func mails() -> [Mail] {
        let folder = directory.appendingPathComponent("mail")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix("mail-") && $0.hasSuffix(".json") }
            .sorted { Int($0.dropFirst(5).dropLast(5)) ?? 0 < Int($1.dropFirst(5).dropLast(5)) ?? 0 }
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { return nil }
            return try? JSONDecoder().decode(Mail.self, from: data)
        }
    }

    /// Polls until `count` mails arrived or `seconds` passed.
    func waitForMails(_ count: Int, seconds: Double = 10) async -> [Mail] {
        let deadline = Date().addingTimeInterval(seconds)
        while mails().count < count && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return mails()
    }
}

struct SinkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A self-signed certificate for 127.0.0.1, made with the openssl tool.
struct TestCertificate {
    let certificate: String
    let key: String

    static func make(in directory: URL) throws -> TestCertificate {
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                             "-keyout", key, "-out", certificate]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SinkError("openssl could not make a test certificate") }
        return TestCertificate(certificate: certificate, key: key)
    }
}
