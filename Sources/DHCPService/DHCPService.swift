import DHCPNetwork
import Engine
import Logging
import Synchronization

/// The packet side of the daemon: the engine, the thread it runs on, and the sockets that thread
/// reads. The executable decides when (start-up, reload, shutdown); this type decides how.
///
/// The engine's thread (`EngineThread`) waits on the sockets with epoll; when one is readable its
/// reader (`DatagramReader`) reads a `recvmmsg` batch there and each datagram goes to
/// `DHCPEngine.handleArrived` on the spot. Replies leave through `NetworkReplySender` over the
/// sockets serving at the time. A reload that rebinds the sockets changes over in one engine job
/// (`changeOver`), so no datagram waits on a socket nobody reads.
public final class DHCPService: Sendable {
    public let engine: DHCPEngine
    public let thread: EngineThread
    private let logger: Logger
    /// The sockets serving now, their readers (used on the engine's thread only; the lock is for
    /// the hand-over from the caller's), and whether the engine's thread watches them yet.
    private let serving: Mutex<(sockets: DHCPSockets, readers: [DatagramReader], watched: Bool)>

    /// Makes the engine on a new `EngineThread`, replying through `sockets`. Nothing is read until
    /// `start`.
    public init(
        sockets: DHCPSockets, generation: Generation, logger: Logger = Logger(label: "dhcp"),
        parkedLimit: Int = 2048, offerWindow: Duration = .seconds(10)
    ) {
        let thread = EngineThread()
        self.thread = thread
        self.logger = logger
        engine = DHCPEngine(
            generation: generation, sender: NetworkReplySender(sockets: sockets), logger: logger,
            parkedLimit: parkedLimit, executor: thread, offerWindow: offerWindow
        )
        serving = Mutex((sockets, sockets.makeReaders(), false))
    }

    /// The sockets serving now.
    public var sockets: DHCPSockets { serving.withLock { $0.sockets } }

    /// Starts reading the sockets on the engine's thread. Later calls do nothing.
    public func start() {
        let readers = serving.withLock { serving -> [DatagramReader] in
            guard !serving.watched else { return [] }
            serving.watched = true
            return serving.readers
        }
        watch(readers)
    }

    /// Makes `next` the generation every new request runs on, and applies its REALTIME_PRIORITY
    /// to the engine's thread, in one engine job.
    public func install(_ next: Generation) async {
        let (thread, logger) = (thread, logger)
        await engine.perform {
            engine.assumeIsolated { $0.install(next) }
            thread.follow(realtimePriority: next.configuration.realtimePriority, logger: logger)
        }
    }

    /// A reload rebound the sockets: in one engine job, what is still queued on the old sockets is
    /// answered by the old generation, the old sockets are no longer watched, `next` is installed
    /// with a sender over `newSockets`, and those are watched. The old sockets are shut down after;
    /// they close once the last reference to them (a reply in flight) lets go.
    public func changeOver(to newSockets: DHCPSockets, installing next: Generation) async {
        let newReaders = newSockets.makeReaders()
        let (old, oldReaders) = serving.withLock { ($0.sockets, $0.readers) }
        let (thread, logger) = (thread, logger)
        await engine.perform {
            engine.assumeIsolated { engine in
                for reader in oldReaders { thread.unwatch(reader.fd) }
                Self.answerQueued(on: oldReaders, engine: engine)
                engine.install(next, sender: NetworkReplySender(sockets: newSockets))
            }
            thread.follow(realtimePriority: next.configuration.realtimePriority, logger: logger)
            self.watch(newReaders)
        }
        serving.withLock { $0 = (newSockets, newReaders, true) }
        old.shutdown()
    }

    /// Reads and answers every datagram waiting in the sockets' buffers now. Datagrams that arrived
    /// before a stop but wait because the engine was busy are requests in flight too.
    public func answerQueued() async {
        let readers = serving.withLock { $0.readers }
        await engine.perform {
            engine.assumeIsolated { Self.answerQueued(on: readers, engine: $0) }
        }
    }

    /// Stops taking packets: answers what is queued, stops watching the sockets (in the same engine
    /// job) and shuts them down. Requests parked on a slow lookup still finish (`engine.parked`).
    public func stop() async {
        let (sockets, readers) = serving.withLock { ($0.sockets, $0.readers) }
        let thread = thread
        await engine.perform {
            engine.assumeIsolated { engine in
                Self.answerQueued(on: readers, engine: engine)
                for reader in readers { thread.unwatch(reader.fd) }
            }
        }
        sockets.shutdown()
    }

    /// Each readable socket's handler reads one batch on the engine's thread and answers it there.
    private func watch(_ readers: [DatagramReader]) {
        let (engine, thread) = (engine, thread)
        for reader in readers {
            let fd = reader.fd
            thread.watch(fd) {
                engine.assumeIsolated { engine in
                    if reader.read({ engine.handleArrived($0) }) < 0 { thread.unwatch(fd) }
                }
            }
        }
    }

    /// Reads and answers every datagram waiting on `readers` now (on the engine's thread).
    private static func answerQueued(on readers: [DatagramReader], engine: isolated DHCPEngine) {
        for reader in readers {
            while reader.read({ engine.handleArrived($0) }) > 0 {}
        }
    }
}
