#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// The one serial executor the engine runs on, given to it by whoever owns the thread.
///
/// The daemon's is `EngineThread` (DHCPService), which also waits on the DHCP sockets, so a
/// datagram is answered on the thread that read it. The engine itself knows nothing of sockets,
/// epoll or scheduling policy: it needs only to run its jobs one at a time on one thread, and to
/// know when it is on that thread (a socket handler runs outside a job and enters the actor with
/// `assumeIsolated`).
public protocol EngineExecutor: SerialExecutor, Sendable {
    /// True on the executor's thread.
    var isCurrent: Bool { get }
    /// Ends the thread after the current job; later jobs never run. The engine calls it when it
    /// goes away.
    func stop()
}

/// An executor that runs the engine's jobs on a thread of its own and does nothing else: for
/// tools and tests that have no sockets to watch (`staticdhcpd explain`, Tests/EngineTests).
public final class JobThread: EngineExecutor, @unchecked Sendable {
    private let jobs = Mutex<(queued: [UnownedJob], stopping: Bool)>(([], false))
    /// Counts the wake-ups owed to the thread: one per job queued, one for `stop`.
    private let wakeUps: UnsafeMutablePointer<sem_t>
    private let thread = LoopThread()

    public init() {
        wakeUps = .allocate(capacity: 1)
        sem_init(wakeUps, 0, 0)
        thread.start("the engine's job thread") { [self] in run() }
    }

    deinit {
        sem_destroy(wakeUps)
        wakeUps.deallocate()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.queued.append(job) }
        sem_post(wakeUps)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(isCurrent, "expected to run on the engine's job thread")
    }

    public var isCurrent: Bool { thread.isCurrent }

    public func stop() {
        jobs.withLock { $0.stopping = true }
        sem_post(wakeUps)
    }

    private func run() {
        while true {
            while sem_wait(wakeUps) != 0 && errno == EINTR {}
            let (batch, stopping) = jobs.withLock { state -> ([UnownedJob], Bool) in
                defer { state.queued.removeAll(keepingCapacity: true) }
                return (state.queued, state.stopping)
            }
            if stopping { return }
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}

/// The detached POSIX thread an executor runs its loop on, and whether the caller is on it. The
/// loop keeps its executor alive until it returns.
public final class LoopThread: Sendable {
    private let id = Mutex<pthread_t?>(nil)

    public init() {}

    /// Starts the thread running `loop`; `what` names it in the (start-up) failure.
    public func start(_ what: String, _ loop: @escaping @Sendable () -> Void) {
        final class Body: Sendable {
            let owner: LoopThread
            let loop: @Sendable () -> Void
            init(_ owner: LoopThread, _ loop: @escaping @Sendable () -> Void) {
                self.owner = owner
                self.loop = loop
            }
        }
        let context = Unmanaged.passRetained(Body(self, loop)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.owner.id.withLock { $0 = pthread_self() }
            body.loop()
            return nil
        }, context)
        precondition(started == 0, "cannot start \(what): \(String(cString: strerror(started)))")
        pthread_detach(thread)
        id.withLock { $0 = thread }
    }

    /// True on this thread.
    public var isCurrent: Bool {
        guard let thread = id.withLock({ $0 }) else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }
}
