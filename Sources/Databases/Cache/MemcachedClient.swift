import DHCPWire
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal memcached text-protocol client (get, set, delete) for the memcached cache model.
///
/// One connection, used from one serial dispatch queue so requests never interleave on the wire;
/// callers await the result and are never blocked themselves. Connect, send and receive each time
/// out after one second (as the original's client does); any failure drops the connection, which
/// is remade on the next request.
final class MemcachedClient: Sendable {
    let host: String
    let port: Int
    private let queue = DispatchQueue(label: "staticdhcpd.memcached")
    private let socketBox = Locked<Int32>(-1)

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    deinit {
        let fd = socketBox.withLock { $0 }
        if fd >= 0 { close(fd) }
    }

    func get(_ key: String) async throws -> [UInt8]? {
        try await perform { connection in
            try connection.send(Array("get \(key)\r\n".utf8))
            let header = try connection.line()
            if header == "END" { return nil }
            let parts = header.split(separator: " ")
            guard parts.count >= 4, parts[0] == "VALUE", let length = Int(parts[3]) else {
                throw MemcachedError("unexpected reply to get: \(header)")
            }
            let value = try connection.bytes(length + 2).dropLast(2)
            guard try connection.line() == "END" else { throw MemcachedError("get reply not terminated by END") }
            return Array(value)
        }
    }

    func set(_ key: String, _ value: [UInt8], expiry: Int) async throws {
        try await perform { connection in
            try connection.send(Array("set \(key) 0 \(expiry) \(value.count)\r\n".utf8) + value + [13, 10])
            let reply = try connection.line()
            guard reply == "STORED" else { throw MemcachedError("set \(key) answered \(reply)") }
        }
    }

    func delete(_ key: String) async throws {
        try await perform { connection in
            try connection.send(Array("delete \(key)\r\n".utf8))
            let reply = try connection.line()
            guard reply == "DELETED" || reply == "NOT_FOUND" else { throw MemcachedError("delete \(key) answered \(reply)") }
        }
    }

    private func perform<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    let connection = try self.connection()
                    do {
                        continuation.resume(returning: try body(connection))
                    } catch {
                        self.disconnect()
                        throw error
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Only ever called on `queue`.
    private func connection() throws -> Connection {
        let existing = socketBox.withLock { $0 }
        if existing >= 0 { return Connection(fd: existing) }
        let fd = try Self.connect(host: host, port: port)
        socketBox.withLock { $0 = fd }
        return Connection(fd: fd)
    }

    private func disconnect() {
        let fd = socketBox.withLock { value -> Int32 in
            defer { value = -1 }
            return value
        }
        if fd >= 0 { close(fd) }
    }

    private static func connect(host: String, port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw MemcachedError("cannot resolve memcached host '\(host)'")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw MemcachedError("socket(): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // With SO_SNDTIMEO set, Linux also bounds connect() by it.
        guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw MemcachedError("cannot connect to memcached at \(host):\(port): \(reason)")
        }
        return fd
    }

    /// Blocking reads and writes on the connected socket (on `queue` only).
    private struct Connection {
        let fd: Int32

        func send(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { throw MemcachedError("send failed: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }

        func line() throws -> String {
            var collected: [UInt8] = []
            while true {
                let byte = try bytes(1)[0]
                if byte == 10 { break }
                collected.append(byte)
                guard collected.count < 4096 else { throw MemcachedError("reply line too long") }
            }
            if collected.last == 13 { collected.removeLast() }
            return String(decoding: collected, as: UTF8.self)
        }

        func bytes(_ count: Int) throws -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let received = buffer[filled...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard received > 0 else {
                    throw MemcachedError(received == 0 ? "memcached closed the connection" : "receive failed: \(String(cString: strerror(errno)))")
                }
                filled += received
            }
            return buffer
        }
    }
}

struct MemcachedError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "memcached: " + description }
}

/// The memcached cache model: `CACHING_MODEL = "memcached"`. Entries expire after
/// `MEMCACHED_AGE_TIME`; reinitialisation does not flush them (they age out), as in the original.
final class MemcachedCache: CacheStore {
    let name: String
    private let client: MemcachedClient
    private let ageTime: Int
    private static let generationKey = "staticdhcpd-generation"

    init(host: String, port: Int, ageTime: Int) {
        client = MemcachedClient(host: host, port: port)
        self.ageTime = ageTime
        name = "memcached(\(host):\(port))"
    }

    private struct Stored: Codable {
        var generation: UInt64
        var definitions: [StoredDefinition]
    }

    private func key(_ mac: MAC) -> String { "staticdhcpd-" + mac.description }

    func entry(for mac: MAC) async throws -> CacheEntry? {
        guard let bytes = try await client.get(key(mac)) else { return nil }
        let stored = try JSONDecoder().decode(Stored.self, from: Data(bytes))
        return CacheEntry(definitions: try stored.definitions.map { try $0.definition() }, generation: stored.generation)
    }

    func store(_ entry: CacheEntry, for mac: MAC) async throws {
        let stored = Stored(generation: entry.generation, definitions: entry.definitions.map(StoredDefinition.init))
        try await client.set(key(mac), Array(try JSONEncoder().encode(stored)), expiry: Self.exptime(forAge: ageTime))
    }

    /// memcached reads an exptime over 30 days as an absolute Unix time, so a longer
    /// MEMCACHED_AGE_TIME is sent as "now + age" (otherwise entries would expire at once).
    static func exptime(forAge age: Int, now: Int = Int(Date().timeIntervalSince1970)) -> Int {
        age > 2_592_000 ? now + age : age
    }

    func remove(_ mac: MAC) async throws { try await client.delete(key(mac)) }

    func recordedGeneration() async throws -> UInt64 {
        guard let bytes = try await client.get(Self.generationKey) else { return 0 }
        return UInt64(String(decoding: bytes, as: UTF8.self)) ?? 0
    }

    func record(generation: UInt64) async throws {
        try await client.set(Self.generationKey, Array(String(generation).utf8), expiry: 0)
    }
}
