import DHCPWire
import Databases
import Foundation
import Testing

/// A memcached from Debian's `memcached` package on 127.0.0.1, stopped by `stop()`.
final class MemcachedTestServer: @unchecked Sendable {
    static var binary: String? {
        ["/usr/bin/memcached", "/usr/local/bin/memcached"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let port: Int
    private let pid: pid_t
    private var running = true

    init?() throws {
        guard let binary = Self.binary else { return nil }
        port = 20_000 + Int.random(in: 0..<20_000)
        pid = try ChildProcess.spawn([binary, "-l", "127.0.0.1", "-p", String(port), "-U", "0", "-u", "nobody", "-m", "16"])
        // Wait until it accepts connections.
        for _ in 0..<50 {
            if (try? Self.probe(port)) == true { return }
            usleep(50_000)
        }
        stop()
        throw TestServerError("memcached did not start on port \(port)")
    }

    func stop() {
        guard running else { return }
        running = false
        kill(pid, SIGTERM)
        ChildProcess.wait(pid)
    }

    private static func probe(_ port: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

@Suite struct MemcachedTests {
    @Test(.enabled(if: MemcachedTestServer.binary != nil, "memcached is not installed (Debian package 'memcached')"))
    func theMemcachedModelCachesAndServesThroughAnOutage() async throws {
        let server = try #require(try MemcachedTestServer())
        defer { server.stop() }
        let alpha = ReservationSet.expected[ReservationSet.alpha]!
        let backend = ScriptedDatabase([ReservationSet.alpha: [alpha]])
        var config = DatabaseConfiguration(engine: .custom(backend))
        config.useCache = true
        config.cachingModel = "memcached"
        config.memcachedHost = "127.0.0.1"
        config.memcachedPort = server.port
        let database = try DatabaseFactory.make(config, logger: quietLogger)
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alpha])
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alpha])
        #expect(backend.lookups == 1)
        #expect(try await database.lookupMAC(ReservationSet.unknown).isEmpty)
        #expect(try await database.lookupMAC(ReservationSet.unknown).isEmpty)
        #expect(backend.lookups == 3)
        backend.down = true
        await #expect(throws: DatabaseError.self) { try await database.reinitialise() }
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alpha])

        // Memcached itself going away never stops service: lookups fall through to the backend.
        server.stop()
        backend.down = false
        #expect(try await database.lookupMAC(ReservationSet.alpha) == [alpha])
    }

    @Test func memcachedWithoutAHostDisablesCaching() async throws {
        let backend = ScriptedDatabase([ReservationSet.alpha: [ReservationSet.expected[ReservationSet.alpha]!]])
        var config = DatabaseConfiguration(engine: .custom(backend))
        config.useCache = true
        config.cachingModel = "memcached"
        let database = try DatabaseFactory.make(config, logger: quietLogger)
        _ = try await database.lookupMAC(ReservationSet.alpha)
        _ = try await database.lookupMAC(ReservationSet.alpha)
        #expect(backend.lookups == 2)
    }
}
