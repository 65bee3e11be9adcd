import Foundation
import Dispatch
import Glibc
import Logging
import Synchronization
import Testing
@testable import Web

/// Keeps every record logged through it, for assertions on levels.
final class RecordingLog: Sendable {
    let records = Mutex<[(Logger.Level, String)]>([])

    func logger() -> Logger {
        var logger = Logger(label: "web-test") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let log: RecordingLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.records.withLock { $0.append((event.level, "\(event.message)")) }
        }
    }
}

/// A plain TCP connection to 127.0.0.1, kept open between requests (HTTP keep-alive). Its blocking
/// calls run on a Dispatch thread: blocking the (two-thread) cooperative pool would stall the server
/// under test and every other test running at the same time.
final class LoopbackConnection: Sendable {
    let descriptor: Int32

    static func open(port: Int) async throws -> LoopbackConnection {
        try await offPool { try LoopbackConnection(port: port) }
    }

    private init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXFailure(errno: errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends a GET and returns the start of the response (enough for the status line).
    func get(_ path: String) async throws -> String {
        try await send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    /// Sends `text` as is and returns the start of the response.
    func send(_ text: String) async throws -> String {
        let descriptor = descriptor
        let request = Array(text.utf8)
        guard Glibc.send(descriptor, request, request.count, 0) == request.count else { throw POSIXFailure(errno: errno) }
        let answer = try await receive()
        guard !answer.isEmpty else { throw POSIXFailure(errno: 0) }
        return answer
    }

    /// What arrives next; empty when the server closed the connection. Throws on the 5 s timeout.
    func receive() async throws -> String {
        let descriptor = descriptor
        return try await offPool {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count >= 0 else { throw POSIXFailure(errno: errno) }
            return String(decoding: buffer[..<count], as: UTF8.self)
        }
    }

    deinit { close(descriptor) }
}

struct POSIXFailure: Error { let errno: Int32 }

/// Runs a blocking call on a Dispatch thread instead of the cooperative pool.
func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// A real server on 127.0.0.1 (an ephemeral port), for what the in-process router tests cannot see:
/// slow and idle clients, and stopping.
struct LiveServer {
    let port: Int
    let serving: Task<Void, any Error>

    static func start(log: RecordingLog, _ configure: (inout WebConfiguration) -> Void = { _ in }) async throws -> LiveServer {
        var configuration = WebConfiguration()
        configuration.ip = "127.0.0.1"
        configuration.port = 0
        configure(&configuration)
        let server = WebServer(
            config: configuration, source: FakeSource(), reservations: nil, scripts: FakeScripts(), logger: log.logger())
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let serving = Task { try await server.run { port in portSink.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw POSIXFailure(errno: 0) }
        return LiveServer(port: port, serving: serving)
    }

    /// Cancels the serving task and waits (up to 10 s) until `run()` returns; true if it did.
    func stop() async throws -> Bool {
        serving.cancel()
        let stopped = Flag()
        let serving = serving
        Task {
            _ = try? await serving.value
            stopped.set()
        }
        for _ in 0..<200 where !stopped.isSet { try await Task.sleep(for: .milliseconds(50)) }
        return stopped.isSet
    }
}

@Suite struct LiveServerTests {
    /// Stopping the daemon cancels the web task; the server must then stop gracefully, with an open
    /// keep-alive connection, and log nothing at error level (Hummingbird logs "Waiting on child
    /// channel: CancellationError()" when its run is cancelled outright).
    @Test func cancellingRunStopsGracefullyWithoutErrors() async throws {
        let log = RecordingLog()
        let server = try await LiveServer.start(log: log)
        let connection = try await LoopbackConnection.open(port: server.port)
        #expect(try await connection.get("/api/status").hasPrefix("HTTP/1.1 200 OK"))

        #expect(try await server.stop(), "the server did not stop within 10 s of cancellation")
        let errors = log.records.withLock { $0.filter { $0.0 >= .error }.map(\.1) }
        #expect(errors.isEmpty, "logged at error level: \(errors)")
        // The listening socket is closed: a new connection is refused.
        await #expect(throws: POSIXFailure.self) { _ = try await LoopbackConnection.open(port: server.port) }
        withExtendedLifetime(connection) {}
    }

    /// A client that announces a body and never sends it gets 408 once the body deadline passes.
    @Test func slowBodyGets408() async throws {
        let log = RecordingLog()
        let server = try await LiveServer.start(log: log) { $0.bodyReadTimeout = .milliseconds(300) }
        let connection = try await LoopbackConnection.open(port: server.port)
        let started = ContinuousClock.now
        let response = try await connection.send("POST /ext/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part")
        #expect(response.hasPrefix("HTTP/1.1 408"))
        #expect(ContinuousClock.now - started < .seconds(4))
        _ = try await server.stop()
    }

    /// An idle connection is closed after the idle timeout, so stalled clients cannot pile up.
    @Test func idleConnectionIsClosed() async throws {
        let log = RecordingLog()
        let server = try await LiveServer.start(log: log) { $0.idleTimeoutSeconds = 1 }
        let connection = try await LoopbackConnection.open(port: server.port)
        let started = ContinuousClock.now
        #expect(try await connection.receive().isEmpty, "the server should close the idle connection")
        #expect(ContinuousClock.now - started < .seconds(4))
        _ = try await server.stop()
    }
}
