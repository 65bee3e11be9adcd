#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import DHCPWire
import Foundation
import Synchronization
import Testing
@testable import DHCPNetwork

/// Receive-path throughput on loopback, read as the daemon reads (`ReadingLoop`), batch size 1
/// (one datagram per system call) against the default batch. Opt-in: `NETWORK_BENCH=1 swift test --filter ReceiveThroughputBenchmark`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["NETWORK_BENCH"] == "1", "set NETWORK_BENCH=1 to run"))
struct ReceiveThroughputBenchmark {
    @Test(arguments: [1, 32])
    func loopbackFlood(batch: Int) throws {
        let loopback = IPv4(127, 0, 0, 1)
        let sockets = try DHCPSockets(
            config: NetworkConfig(serverIP: loopback, serverPort: 0, responseInterface: .none, receiveBatchSize: batch,
                                  receiveBufferBytes: 8 << 20),
            logger: testLogger)
        defer { sockets.shutdown() }
        let count = Atomic<Int>(0)
        let loop = ReadingLoop(sockets) { _ in count.add(1, ordering: .relaxed) }
        defer { loop.stop() }
        let client = try TestClientSocket(bindTo: loopback)
        let payload = [UInt8](repeating: 0x5A, count: 300)
        let total = 200_000
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpuBefore = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let start = ContinuousClock.now
        for index in 0..<total {
            try client.send(payload, to: loopback, port: sockets.serverPort)
            // Pace the sender so that the kernel buffer, not the sender, decides drops.
            if index % 64 == 0 { while index - count.load(ordering: .relaxed) > 2_000 { sched_yield() } }
        }
        // Wait for the tail, stopping when nothing more arrives for a second (the rest were dropped).
        var last = -1
        var idle = 0
        while count.load(ordering: .relaxed) < total, idle < 1000 {
            let now = count.load(ordering: .relaxed)
            idle = now == last ? idle + 1 : 0
            last = now
            usleep(1000)
        }
        let elapsed = ContinuousClock.now - start
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpuAfter = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let received = count.load(ordering: .relaxed)
        print("batch \(batch): \(received)/\(total) datagrams in \(String(format: "%.2f", seconds)) s = "
              + "\(Int(Double(received) / seconds)) datagrams/s, process CPU \(String(format: "%.2f", cpuAfter - cpuBefore)) s")
        #expect(received >= total * 99 / 100, "more than 1% of the datagrams were dropped")
    }
}

/// The receive path alone: the kernel buffer is filled before the reading thread starts, then the
/// time to drain it is measured (the sender cannot be the limit).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["NETWORK_BENCH"] == "1", "set NETWORK_BENCH=1 to run"))
struct ReceiveDrainBenchmark {
    @Test(arguments: [1, 32])
    func drainPrefilledBuffer(batch: Int) throws {
        let loopback = IPv4(127, 0, 0, 1)
        let sockets = try DHCPSockets(
            config: NetworkConfig(serverIP: loopback, serverPort: 0, responseInterface: .none, receiveBatchSize: batch,
                                  receiveBufferBytes: 128 << 20),
            logger: testLogger)
        defer { sockets.shutdown() }
        let client = try TestClientSocket(bindTo: loopback)
        let payload = [UInt8](repeating: 0x5A, count: 300)
        let total = 50_000
        for _ in 0..<total { try client.send(payload, to: loopback, port: sockets.serverPort) }
        let count = Atomic<Int>(0)
        let start = ContinuousClock.now
        let loop = ReadingLoop(sockets) { _ in count.add(1, ordering: .relaxed) }
        defer { loop.stop() }
        var last = -1
        var idle = 0
        while count.load(ordering: .relaxed) < total, idle < 500 {
            let now = count.load(ordering: .relaxed)
            idle = now == last ? idle + 1 : 0
            last = now
            usleep(200)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let received = count.load(ordering: .relaxed)
        print("drain batch \(batch): \(received)/\(total) datagrams in \(String(format: "%.3f", seconds)) s = "
              + "\(Int(Double(received) / seconds)) datagrams/s")
        #expect(received == total)
    }
}
