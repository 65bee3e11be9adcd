import NIOCore
import NIOPosix
import Synchronization

/// A thread that waits on sockets and runs short work between them: the daemon's engine thread
/// (DHCPService's `EngineThread`).
///
/// A PostgreSQL statement issued on such a thread is written and read by that thread itself
/// (`LoopTransport`): it goes out in the call that issues it, and its answer is read when epoll
/// reports the socket, between two batches of datagrams. No other thread takes part, so a round
/// trip wakes nobody but this thread, and only when it had nothing else to do (docs/ARCHITECTURE.md,
/// "PostgreSQL on the engine's thread").
public protocol SocketLoop: AnyObject, Sendable {
    /// Calls `handler` on the loop whenever `fd` is readable (level-triggered), or as `interest`
    /// says later.
    func watch(_ fd: Int32, _ handler: @escaping @Sendable () -> Void)
    /// When `watch`'s handler is called for `fd`: while it is readable (when `readable`), while it
    /// is writable (when `writable`: a send that did not fit), or neither (a reader that wants no
    /// more for now: level-triggered, it would otherwise be called again and again).
    func interest(_ fd: Int32, readable: Bool, writable: Bool)
    /// Stops calling the handler for `fd`.
    func unwatch(_ fd: Int32)
    /// Runs `work` on the loop, after the job or handler that is running.
    func execute(_ work: @escaping @Sendable () -> Void)
    /// Runs `work` on the loop once `deadline` has passed.
    func schedule(at deadline: NIODeadline, _ work: @escaping @Sendable () -> Void)
}

/// The socket loop that runs the calling thread, if any.
public enum SocketLoops {
    private final class Entry: Sendable {
        let loop: any SocketLoop
        init(_ loop: any SocketLoop) { self.loop = loop }
    }

    private static let entries = ThreadSpecificVariable<Entry>()

    /// The loop running this thread; nil on every other thread.
    public static var current: (any SocketLoop)? { entries.currentValue?.loop }

    /// Called by a loop on its own thread, before it runs anything.
    public static func enter(_ loop: any SocketLoop) {
        entries.currentValue = Entry(loop)
    }
}
