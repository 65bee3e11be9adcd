#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import Logging
import NIOCore
import NIOEmbedded
import PostgresNIO

/// PostgreSQL connections whose sockets a `SocketLoop` (the engine's thread) reads and writes
/// itself, for `StatementConnections` statements issued on that thread.
///
/// PostgresNIO speaks the protocol, as on every other connection (start-up, authentication, TLS,
/// statements), but its channel is an `EmbeddedChannel` on an `EmbeddedEventLoop` that lives on the
/// loop's thread. What the driver writes reaches `LoopSocket` at the head of the pipeline, which
/// sends it at once; what the socket brings is read when epoll reports it and passed up the
/// pipeline. A round trip costs the thread one send and one read and wakes no other thread; on the
/// driver's own event loops it cost two hand-offs between threads, each a wake-up, which on a busy
/// server were most of a PostgreSQL renewal's CPU (docs/BENCHMARK.md, "Dynamic pools").
///
/// Only the TCP (or Unix socket) connect runs elsewhere, on a Dispatch thread, as it may block on
/// name resolution. Everything else is made, used and dropped on the loop's thread, which the
/// embedded event loop checks.
final class LoopTransport: @unchecked Sendable {
    let loop: any SocketLoop
    /// The embedded loop, owned here but let go on the loop's thread (`deinit`).
    private let ownedEventLoop: Unmanaged<EmbeddedEventLoop>
    var eventLoop: EmbeddedEventLoop { ownedEventLoop.takeUnretainedValue() }
    private let logger: Logger
    /// Statements' time-outs, oldest first (`expire(at:_:)`).
    private var expiries = CircularBuffer<Expiry>()
    private var armedFor: NIODeadline?

    /// Call on `loop`'s thread.
    init(loop: any SocketLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        ownedEventLoop = Unmanaged.passRetained(EmbeddedEventLoop())
        eventLoop.advanceTime(to: .now())
    }

    deinit {
        // The embedded loop must end on its own thread, with no timer left (it checks both).
        let owned = ownedEventLoop
        loop.execute {
            let eventLoop = owned.takeRetainedValue()
            eventLoop.shutdownGracefully(queue: LoopTransport.shutdownQueue) { _ in }
        }
    }

    private static let shutdownQueue = DispatchQueue(label: "staticdhcpd.loop-transport.shutdown")

    /// Runs the work the driver queued on the embedded loop, and moves its clock to now (it only
    /// moves when told), so its own timers (the start-up's deadline) come due.
    func drive() {
        eventLoop.advanceTime(to: .now())
    }

    // MARK: connecting

    /// Connects as `configuration` says (TCP or Unix socket, TLS, credentials, time-out).
    func connect(_ configuration: PostgresConnection.Configuration, id: Int, logger: Logger) -> EventLoopFuture<PostgresConnection> {
        let promise = eventLoop.makePromise(of: PostgresConnection.self)
        let target = SocketTarget(configuration)
        let seconds = Double(configuration.options.connectTimeout.nanoseconds) / 1e9
        // The promise travels to the Dispatch thread and back as a bare pointer: a future's
        // last release checks it is on its loop's thread.
        final class Waiting: @unchecked Sendable {
            let promise: EventLoopPromise<PostgresConnection>
            init(_ promise: EventLoopPromise<PostgresConnection>) { self.promise = promise }
        }
        let waiting = Unmanaged.passRetained(Waiting(promise))
        DispatchQueue.global().async { [self] in
            let outcome = Result { try target.connect(timeout: seconds) }
            loop.execute { [self] in
                let promise = waiting.takeRetainedValue().promise
                switch outcome {
                case .failure(let error):
                    promise.fail(error)
                case .success(let fd):
                    start(fd: fd, configuration: configuration, id: id).cascade(to: promise)
                }
                drive()
            }
        }
        return promise.futureResult
    }

    /// Puts PostgresNIO on the connected socket `fd`.
    private func start(fd: Int32, configuration: PostgresConnection.Configuration, id: Int) -> EventLoopFuture<PostgresConnection> {
        let channel = EmbeddedChannel(loop: eventLoop)
        let socket = LoopSocket(fd: fd, transport: self, channel: channel)
        do {
            try channel.pipeline.syncOperations.addHandler(socket)
            // An embedded channel becomes active when told it connected; the address is not used.
            channel.connect(to: try SocketAddress(ipAddress: "0.0.0.0", port: 0), promise: nil)
        } catch {
            socket.shut()
            return eventLoop.makeFailedFuture(error)
        }
        loop.watch(fd) { socket.ready() }
        // As a socket channel with auto-read does once active: the first read is the channel's.
        channel.read()
        var established = PostgresConnection.Configuration(
            establishedChannel: channel, tls: configuration.tls, username: configuration.username,
            password: configuration.password, database: configuration.database)
        established.options = configuration.options
        // The driver names the server for TLS (SNI, verify-full) from a host it connects to itself.
        if established.options.tlsServerName == nil, let host = configuration.host, !host.isIPAddress {
            established.options.tlsServerName = host
        }
        return PostgresConnection.connect(on: eventLoop, configuration: established, id: id, logger: logger)
    }

    // MARK: time-outs

    /// A statement's time-out: `fire` runs on the loop at `deadline` unless `finished` came first.
    /// Touched on the loop's thread only.
    final class Expiry: @unchecked Sendable {
        let deadline: NIODeadline
        var fire: (() -> Void)?
        init(_ deadline: NIODeadline, _ fire: @escaping () -> Void) {
            self.deadline = deadline
            self.fire = fire
        }
    }

    /// Calls `fire` at `deadline` unless `finished(_:)` is called first. One loop timer covers
    /// them all: statements of one connection set share their time-out, so the oldest is due first.
    func expire(at deadline: NIODeadline, _ fire: @escaping () -> Void) -> Expiry {
        let expiry = Expiry(deadline, fire)
        expiries.append(expiry)
        if armedFor.map({ deadline < $0 }) ?? true { arm(deadline) }
        return expiry
    }

    func finished(_ expiry: Expiry) {
        expiry.fire = nil
        while let first = expiries.first, first.fire == nil { expiries.removeFirst() }
    }

    private func arm(_ deadline: NIODeadline) {
        armedFor = deadline
        loop.schedule(at: deadline) { [weak self] in self?.expireDue() }
    }

    private func expireDue() {
        armedFor = nil
        let now = NIODeadline.now()
        var kept = CircularBuffer<Expiry>()
        for expiry in expiries {
            guard let fire = expiry.fire else { continue }
            if expiry.deadline <= now {
                expiry.fire = nil
                fire()
            } else {
                kept.append(expiry)
            }
        }
        expiries = kept
        if let next = kept.lazy.map(\.deadline).min() { arm(next) }
        drive()
    }
}

/// Where a PostgreSQL connection goes: a TCP host and port, or a Unix socket's path.
private enum SocketTarget {
    case tcp(host: String, port: Int)
    case unix(path: String)

    init(_ configuration: PostgresConnection.Configuration) {
        if let path = configuration.unixSocketPath {
            self = .unix(path: path)
        } else {
            self = .tcp(host: configuration.host ?? "127.0.0.1", port: configuration.port ?? 5432)
        }
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// A connected, non-blocking socket, within `timeout` seconds (blocks the calling thread).
    func connect(timeout: Double) throws -> Int32 {
        switch self {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw Failed(description: "cannot make a socket: \(String(cString: strerror(errno)))") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                throw Failed(description: "the socket path \(path) is too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw Failed(description: "cannot connect to \(path): \(reason)")
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            return fd
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let resolved = getaddrinfo(host, String(port), &hints, &list)
            guard resolved == 0, let first = list else {
                throw Failed(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
            }
            defer { freeaddrinfo(list) }
            var reason = "no address"
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let info = entry {
                entry = info.pointee.ai_next
                switch Self.connect(info.pointee, timeout: timeout) {
                case .success(let fd): return fd
                case .failure(let error): reason = error.description
                }
            }
            throw Failed(description: "cannot connect to \(host):\(port): \(reason)")
        }
    }

    private static func connect(_ info: addrinfo, timeout: Double) -> Result<Int32, Failed> {
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), info.ai_protocol)
        guard fd >= 0 else { return .failure(Failed(description: String(cString: strerror(errno)))) }
        func failed(_ reason: String) -> Result<Int32, Failed> {
            close(fd)
            return .failure(Failed(description: reason))
        }
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { return failed(String(cString: strerror(errno))) }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, timeout * 1000)))
            guard ready > 0 else { return failed(ready == 0 ? "timed out after \(timeout) s" : String(cString: strerror(errno))) }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { return failed(String(cString: strerror(error))) }
        }
        // Statements are small and each waits for its answer: send them at once.
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return .success(fd)
    }
}

/// The head of a loop connection's pipeline: sends what the driver writes on the socket, reads
/// the socket when the pipeline asks for a read, and closes the socket with the channel.
///
/// Reads follow NIO's contract, as a socket channel with auto-read does: one `read` from the
/// pipeline allows one read cycle (a few `recv`s, then read-complete), after which the next `read`
/// is asked for; the driver holds that request back while a result's rows are not yet consumed,
/// and must see no data in between (it traps). Meanwhile epoll stops watching for readability,
/// or the level-triggered loop would call again and again.
private final class LoopSocket: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var fd: Int32
    private let transport: LoopTransport
    private let channel: EmbeddedChannel
    /// Written but not yet sent (the socket's buffer was full).
    private var unsent: ByteBuffer
    private var waitingToSend = false
    /// The pipeline asked for a read that has not happened yet.
    private var readRequested = false
    /// What epoll watches the socket for now.
    private var watching = (readable: true, writable: false)

    init(fd: Int32, transport: LoopTransport, channel: EmbeddedChannel) {
        self.fd = fd
        self.transport = transport
        self.channel = channel
        unsent = channel.allocator.buffer(capacity: 1024)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard fd >= 0 else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var buffer = unwrapOutboundIn(data)
        unsent.writeBuffer(&buffer)
        promise?.succeed(())
    }

    func flush(context: ChannelHandlerContext) {
        send()
    }

    func read(context: ChannelHandlerContext) {
        readRequested = true
        updateInterest()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        shut()
        context.close(mode: mode, promise: promise)
    }

    /// Stops watching and closes the socket (once).
    func shut() {
        guard fd >= 0 else { return }
        transport.loop.unwatch(fd)
        Glibc.close(fd)
        fd = -1
        unsent.clear()
    }

    private func updateInterest() {
        guard fd >= 0 else { return }
        let wanted = (readable: readRequested, writable: waitingToSend)
        guard wanted != watching else { return }
        watching = wanted
        transport.loop.interest(fd, readable: wanted.readable, writable: wanted.writable)
    }

    private func send() {
        while fd >= 0 && unsent.readableBytes > 0 {
            let sent = unsent.withUnsafeReadableBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                unsent.moveReaderIndex(forwardBy: sent)
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                waitingToSend = true
                updateInterest()
                return
            } else {
                fail(IOError(errnoCode: errno, reason: "send"))
                return
            }
        }
        unsent.discardReadBytes()
        waitingToSend = false
        updateInterest()
    }

    /// epoll reported the socket: sends what waits, and reads when a read was asked for.
    func ready() {
        if waitingToSend { send() }
        if readRequested { readCycle() }
        updateInterest()
        transport.drive()
    }

    /// One read cycle: up to `readsPerCycle` reads, read-complete, then the next read asked for.
    private func readCycle() {
        readRequested = false
        var got = false
        reading: for _ in 0..<Self.readsPerCycle where fd >= 0 {
            var buffer = channel.allocator.buffer(capacity: Self.readSize)
            var result = 0
            var error: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.readSize) { bytes in
                result = recv(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT))
                error = errno
                return max(0, result)
            }
            switch result {
            case 1...:
                got = true
                channel.pipeline.syncOperations.fireChannelRead(NIOAny(buffer))
                if result < Self.readSize { break reading }
            case 0:
                // The server closed the connection: the driver fails what waits on it.
                shut()
                channel.close(promise: nil)
                return
            default:
                if error == EINTR { continue }
                if error != EAGAIN && error != EWOULDBLOCK {
                    fail(IOError(errnoCode: error, reason: "recv"))
                    return
                }
                break reading
            }
        }
        guard got else {
            // Nothing came after all: the request still stands.
            readRequested = fd >= 0
            return
        }
        channel.pipeline.syncOperations.fireChannelReadComplete()
        // Auto-read: ask for the next read; the driver holds it back while it has rows unread.
        if fd >= 0 { channel.read() }
    }

    private static let readSize = 16384
    private static let readsPerCycle = 4

    private func fail(_ error: any Error) {
        shut()
        channel.pipeline.syncOperations.fireErrorCaught(error)
        channel.close(promise: nil)
    }
}

private extension String {
    /// A literal IPv4 or IPv6 address (not a name).
    var isIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, self, &v4) == 1 || inet_pton(AF_INET6, self, &v6) == 1
    }
}
