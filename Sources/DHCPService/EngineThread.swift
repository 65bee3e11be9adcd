#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNetLinux
import Databases
import Engine
import Logging
import NIOCore
import Synchronization

/// The engine's own thread: a serial executor that also waits on the DHCP sockets.
///
/// One thread runs everything that touches the scripts: the engine actor's jobs (a parked lookup
/// resuming, a tick, a reload, a web callback) and, when epoll reports a watched socket readable,
/// that socket's handler, which reads a batch of datagrams and answers them on the spot. There is
/// no hand-off between a receive thread and the engine per datagram, which on a busy server was
/// two wake-ups and two context switches per packet. Datagrams that arrive while the engine is
/// busy wait in the socket's kernel buffer (`NetworkConfig.receiveBufferBytes`, 4 MiB; there is no
/// setting for it), which bounds the backlog without any memory of ours.
///
/// It is also a `SocketLoop`: the PostgreSQL connections of the store and of the reservation
/// lookups that hooks use from this thread are read and written here too (`LoopTransport`), so
/// a round trip to PostgreSQL hands nothing to another thread.
///
/// Web servers, timers and signal handlers stay on their own threads; they reach the engine
/// through actor calls, which arrive here as jobs. `DHCPService` gives this thread to the engine as
/// its executor and watches the sockets on it.
public final class EngineThread: EngineExecutor, SocketLoop, @unchecked Sendable {
    private let epollFD: Int32
    private let wakeFD: Int32
    private let jobs = Mutex<[UnownedJob]>([])
    /// `SocketLoop.execute`'s work, run with the jobs.
    private let works = Mutex<[@Sendable () -> Void]>([])
    /// `SocketLoop.schedule`'s work, by deadline (a few at a time: one per PostgreSQL transport).
    private let timers = Mutex<[(deadline: NIODeadline, work: @Sendable () -> Void)]>([])
    private let watchers = Mutex<[Int32: @Sendable () -> Void]>([:])
    private let stopping = Atomic<Bool>(false)
    private let thread = LoopThread()

    private let name: String
    /// The engine thread's nice value: favoured by the scheduler over the process's other threads.
    public static let niceValue: Int32 = -10

    public init(name: String = "dhcp-engine") {
        self.name = name
        epollFD = cnet_epoll_create()
        wakeFD = cnet_eventfd_create()
        // Only at start-up, and only when the process is out of file descriptors.
        precondition(epollFD >= 0 && wakeFD >= 0, "cannot create the engine's epoll/eventfd: \(String(cString: strerror(errno)))")
        cnet_epoll_add(epollFD, wakeFD)
        thread.start("the engine thread") { [self] in
            name.withCString { cnet_name_thread($0) }
            // Ahead of the dashboard and other housekeeping threads when they share a CPU: a page
            // render must not sit between a client and its reply. Needs CAP_SYS_NICE (root has
            // it); without it the thread keeps the default priority.
            _ = cnet_set_thread_nice(EngineThread.niceValue)
            SocketLoops.enter(self)
            run()
        }
    }

    deinit {
        close(epollFD)
        close(wakeFD)
    }

    // MARK: SerialExecutor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        // The loop drains jobs before it waits again, so a job enqueued from this very thread
        // needs no wake-up.
        if !isCurrent { wake() }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` succeed in a socket handler, which runs on this thread outside a job.
    public func checkIsolated() {
        precondition(isCurrent, "expected to run on the engine thread")
    }

    /// Puts this thread under SCHED_FIFO at `priority` (1-99), ahead of every ordinary thread on
    /// its CPU, the kernel's workers included; 0 puts it back under ordinary scheduling at
    /// `niceValue`. Call it on this thread (in a job). Returns nil, or why the kernel refused.
    public func setRealtimePriority(_ priority: Int) -> String? {
        precondition(isCurrent, "the engine thread sets its own scheduling policy")
        let error = cnet_set_thread_realtime(Int32(priority))
        guard error == 0 else { return String(cString: strerror(error)) }
        if priority == 0 { _ = cnet_set_thread_nice(EngineThread.niceValue) }
        return nil
    }

    /// This thread's SCHED_FIFO priority, 0 under ordinary scheduling (read on this thread).
    public var realtimePriority: Int {
        precondition(isCurrent, "read on the engine thread")
        return Int(cnet_thread_realtime_priority())
    }

    /// REALTIME_PRIORITY: the thread answering DHCP under SCHED_FIFO, so that no ordinary thread
    /// on its CPU (a kernel worker, a reclaim pass, a dashboard render) holds a reply back for a
    /// time slice. A refusal (no CAP_SYS_NICE, e.g. after privileges were dropped) is a warning;
    /// the thread keeps the policy it has. Call it on this thread.
    func follow(realtimePriority wanted: Int, logger: Logger) {
        let applied = realtimePriority
        guard wanted != applied else { return }
        let current = applied == 0 ? "ordinary scheduling" : "SCHED_FIFO priority \(applied)"
        if let refusal = setRealtimePriority(wanted) {
            logger.warning("REALTIME_PRIORITY = \(wanted) not applied: \(refusal) (SCHED_FIFO needs root, CAP_SYS_NICE or a LimitRTPRIO/RLIMIT_RTPRIO that allows it); the DHCP thread keeps \(current)")
            return
        }
        logger.info("The DHCP thread now runs \(wanted == 0 ? "under ordinary scheduling" : "under SCHED_FIFO priority \(wanted)") (was \(current))")
    }

    /// True on the engine thread.
    public var isCurrent: Bool { thread.isCurrent }

    // MARK: sockets

    /// Calls `handler` on this thread whenever `fd` has data (level-triggered: a handler that reads
    /// only part of the backlog is called again after pending jobs had their turn).
    public func watch(_ fd: Int32, _ handler: @escaping @Sendable () -> Void) {
        watchers.withLock { $0[fd] = handler }
        cnet_epoll_add(epollFD, fd)
    }

    /// Stops calling the handler for `fd`.
    public func unwatch(_ fd: Int32) {
        cnet_epoll_remove(epollFD, fd)
        watchers.withLock { _ = $0.removeValue(forKey: fd) }
    }

    public func interest(_ fd: Int32, readable: Bool, writable: Bool) {
        cnet_epoll_interest(epollFD, fd, readable ? 1 : 0, writable ? 1 : 0)
    }

    public func execute(_ work: @escaping @Sendable () -> Void) {
        works.withLock { $0.append(work) }
        if !isCurrent { wake() }
    }

    public func schedule(at deadline: NIODeadline, _ work: @escaping @Sendable () -> Void) {
        timers.withLock { $0.append((deadline, work)) }
        // The loop works out its next wait before it sleeps; one asleep must work it out again.
        if !isCurrent { wake() }
    }

    /// Ends the loop after the current job or handler; later jobs are never run.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        wake()
    }

    // MARK: the loop

    private func wake() {
        cnet_eventfd_signal(wakeFD)
    }

    private func run() {
        var ready = [Int32](repeating: 0, count: 16)
        while !stopping.load(ordering: .acquiring) {
            runJobs()
            let wait = runTimers()
            let count = ready.withUnsafeMutableBufferPointer { cnet_epoll_wait(epollFD, $0.baseAddress, Int32($0.count), wait) }
            guard count >= 0 else {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<Int(count) {
                let fd = ready[index]
                if fd == wakeFD {
                    cnet_eventfd_drain(wakeFD)
                } else if let handler = watchers.withLock({ $0[fd] }) {
                    handler()
                }
            }
        }
    }

    private func runJobs() {
        while true {
            let batch = jobs.withLock { queued -> [UnownedJob] in
                defer { queued.removeAll(keepingCapacity: true) }
                return queued
            }
            let work = works.withLock { queued -> [@Sendable () -> Void] in
                defer { queued.removeAll(keepingCapacity: true) }
                return queued
            }
            if batch.isEmpty && work.isEmpty { return }
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
            for item in work { item() }
        }
    }

    /// Runs the timers that are due; returns how long epoll may wait for the next (ms, -1: none).
    private func runTimers() -> Int32 {
        let now = NIODeadline.now()
        let (due, next) = timers.withLock { timers -> ([@Sendable () -> Void], NIODeadline?) in
            guard !timers.isEmpty else { return ([], nil) }
            var due: [@Sendable () -> Void] = []
            timers.removeAll { timer in
                guard timer.deadline <= now else { return false }
                due.append(timer.work)
                return true
            }
            return (due, timers.map(\.deadline).min())
        }
        for work in due { work() }
        guard !due.isEmpty || next != nil else { return -1 }
        // A timer's work may have queued jobs or more timers: look again at once.
        if !due.isEmpty { return 0 }
        let nanoseconds = (next! - now).nanoseconds
        return Int32(min(60_000, (nanoseconds + 999_999) / 1_000_000))
    }
}
