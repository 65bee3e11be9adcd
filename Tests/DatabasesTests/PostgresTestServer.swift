import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL server from Debian's `postgresql` package: `initdb` in a temporary
/// directory, listening on 127.0.0.1 on a free port, run as the `postgres` user, stopped by
/// `stop()`. `start()` returns nil (and says why) when PostgreSQL is not installed.
final class PostgresTestServer: @unchecked Sendable {
    static let username = "staticdhcpd"
    static let password = "secret-test-password"
    static let database = "dhcp"

    let directory: String
    let port: Int
    private let binaries: String

    /// Why PostgreSQL tests cannot run here, or nil when they can.
    static var unavailableReason: String? {
        binariesDirectory() == nil
            ? "PostgreSQL is not installed (Debian package 'postgresql'; scripts/test installs it)" : nil
    }

    private static func binariesDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            .map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    static func start() throws -> PostgresTestServer? {
        guard let binaries = binariesDirectory() else { return nil }
        return try PostgresTestServer(binaries: binaries)
    }

    private init(binaries: String) throws {
        self.binaries = binaries
        directory = "/tmp/staticdhcpd-pg-\(UUID().uuidString.prefix(8))"
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try Self.password.write(toFile: directory + "/pw", atomically: true, encoding: .utf8)
        try Self.run("/bin/chown", ["-R", "postgres:postgres", directory])
        try asPostgres("initdb", [
            "-D", directory + "/data", "-U", Self.username, "--pwfile=\(directory)/pw", "-E", "UTF8",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        ])
        try begin()
        try psql("CREATE DATABASE \(Self.database)", database: "postgres")
    }

    /// Starts (or restarts) the server on the same port and data.
    func begin() throws {
        try asPostgres("pg_ctl", [
            "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "30",
            "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        ])
    }

    /// Turns TLS on, with a self-signed certificate made for the purpose (clients that verify
    /// nothing, `POSTGRESQL_SSLMODE = "require"`, accept it).
    func enableTLS() throws {
        let certificate = directory + "/data/server.crt", key = directory + "/data/server.key"
        try Self.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-keyout", key, "-out", certificate,
        ])
        try Self.run("/bin/chown", ["postgres:postgres", certificate, key])
        try Self.run("/bin/chmod", ["600", key])
        try psql("ALTER SYSTEM SET ssl = on", database: "postgres")
        try psql("SELECT pg_reload_conf()", database: "postgres")
    }

    /// Stops the server, keeping its data for `begin()`.
    func halt() throws {
        try asPostgres("pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// Stops the server and deletes everything.
    func stop() {
        try? halt()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func psql(_ sql: String, database: String = PostgresTestServer.database) throws {
        try asPostgres("psql", [
            "-X", "-q", "-h", directory, "-p", String(port), "-U", Self.username, "-d", database,
            "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
    }

    private func asPostgres(_ tool: String, _ arguments: [String]) throws {
        // From /tmp: the postgres user may not be able to enter the test's working directory.
        try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/bin/env", "-C", "/tmp", "\(binaries)/\(tool)"] + arguments)
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        try ChildProcess.run([executable] + arguments)
    }

    /// A port on 127.0.0.1 nothing listens on right now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestServerError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
