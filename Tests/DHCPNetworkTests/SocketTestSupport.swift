#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import DHCPService
import DHCPModel
import DHCPWire
import Foundation
import Logging
import Synchronization
@testable import DHCPNetwork

/// A plain UDP socket playing the client in socket tests.
struct TestClientSocket: ~Copyable {
    let fd: Int32
    let port: UInt16

    init(bindTo address: IPv4, port: UInt16 = 0, broadcast: Bool = false) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var on: Int32 = 1
        if broadcast { setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, 4) }
        guard cnet_bind_ipv4(fd, address.value, port) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("bind \(address):\(port): \(reason)")
        }
        self.port = UInt16(cnet_local_port(fd))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to address: IPv4, port: UInt16) throws {
        let result = bytes.withUnsafeBufferPointer { cnet_send_to(fd, $0.baseAddress, $0.count, address.value, port, 0, 0) }
        guard result == bytes.count else { throw TestFailure("send to \(address):\(port): \(String(cString: strerror(errno)))") }
    }

    /// One datagram, or an error after the 3 s receive timeout.
    func receive() throws -> (bytes: [UInt8], source: IPv4, port: UInt16) {
        var slot = [UInt8](repeating: 0, count: 2048)
        var info = cnet_datagram_info()
        let count = slot.withUnsafeMutableBufferPointer { cnet_recv_batch_flags(fd, $0.baseAddress, 2048, &info, 1, 0) }
        guard count == 1 else { throw TestFailure("no datagram within 3 s (\(String(cString: strerror(errno))))") }
        return (Array(slot.prefix(Int(info.length))), IPv4(info.source_ip), info.source_port)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads `sockets` as the daemon does: the production readers (`makeReaders`), each read when the
/// engine's thread (`EngineThread`, DHCPService) reports its socket readable; `deliver` runs there.
final class ReadingLoop: Sendable {
    let thread = EngineThread(name: "test-reader")
    let readers: [DatagramReader]

    init(_ sockets: DHCPSockets, deliver: @escaping @Sendable (Datagram) -> Void) {
        readers = sockets.makeReaders()
        let thread = thread
        for reader in readers {
            let fd = reader.fd
            thread.watch(fd) {
                if reader.read(deliver) < 0 { thread.unwatch(fd) }
            }
        }
    }

    /// Stops watching and ends the thread.
    func stop() {
        for reader in readers { thread.unwatch(reader.fd) }
        thread.stop()
    }
}

/// Collects what the readers deliver, and waits for it.
final class DatagramCollector: Sendable {
    private let items = Mutex<[Datagram]>([])

    var callback: @Sendable (Datagram) -> Void {
        { datagram in self.items.withLock { $0.append(datagram) } }
    }

    /// Waits up to 3 s for at least `count` datagrams.
    func wait(for count: Int) -> [Datagram] {
        for _ in 0..<300 {
            let current = items.withLock { $0 }
            if current.count >= count { return current }
            usleep(10_000)
        }
        return items.withLock { $0 }
    }
}

let testLogger = Logger(label: "NetworkTests")

/// Runs `body` on a fresh thread (so that entering a network namespace never touches a shared test
/// thread) and waits for it.
func onPrivateThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let thread = try startThread {
        let outcome = Result { try body() }
        result.withLock { $0 = outcome }
    }
    pthread_join(thread, nil)
    return try result.withLock { $0! }.get()
}

/// Starts a joinable POSIX thread running `body`.
private func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    guard result == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        throw TestFailure("starting a thread: \(String(cString: strerror(result)))")
    }
    return thread
}

/// Runs a shell command; throws with its output when it fails.
@discardableResult
func shell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestFailure("'\(command)' failed (\(process.terminationStatus)): \(output)")
    }
    return output
}
