import Foundation
import Synchronization

/// Mails CRITICAL records, one at a time, from its own task, so the caller (possibly the packet
/// path) only enqueues. At most `capacity` mails wait; more are dropped and counted. Delivery
/// problems are reported through `report` once when mailing starts failing and once when it works
/// again, never per mail, and never at CRITICAL, so a failing mail cannot cause another mail.
public final class CriticalMailer: Sendable {
    public enum Event: Sendable, Equatable {
        /// Mailing started failing (the first failure after a success or start-up).
        case failing(String)
        /// Mailing works again after `failed` undelivered mails.
        case recovered(failed: Int)
        /// The queue was full; `count` mails were dropped so far.
        case dropped(count: Int)
    }

    private struct Job: Sendable {
        var message: MailMessage
        var settings: EmailSettings
        var report: @Sendable (Event) -> Void
    }

    private struct State {
        var waiting = 0
        var failedInARow = 0
        var dropped = 0
    }

    /// Shared with the sending task, so held by reference.
    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let jobs: AsyncStream<Job>.Continuation
    private let shared = Shared()
    private let capacity: Int

    public init(transport: any MailTransport, capacity: Int = 32) {
        self.capacity = capacity
        let (stream, continuation) = AsyncStream<Job>.makeStream()
        jobs = continuation
        let shared = shared
        Task.detached {
            for await job in stream {
                let failure: String?
                do {
                    try await transport.send(job.message, with: job.settings)
                    failure = nil
                } catch {
                    failure = "\(error)"
                }
                let event: Event? = shared.state.withLock { state in
                    state.waiting -= 1
                    if let failure {
                        state.failedInARow += 1
                        return state.failedInARow == 1 ? .failing(failure) : nil
                    }
                    defer { state.failedInARow = 0 }
                    return state.failedInARow > 0 ? .recovered(failed: state.failedInARow) : nil
                }
                if let event { job.report(event) }
            }
        }
    }

    deinit { jobs.finish() }

    /// Queues one mail; returns false when it was dropped because too many are waiting.
    @discardableResult
    public func submit(_ message: MailMessage, settings: EmailSettings, report: @escaping @Sendable (Event) -> Void) -> Bool {
        let dropped: Int? = shared.state.withLock { state in
            guard state.waiting < capacity else {
                state.dropped += 1
                return state.dropped
            }
            state.waiting += 1
            return nil
        }
        if let dropped {
            // Reported for the first drop and then every hundredth, not for each.
            if dropped == 1 || dropped % 100 == 0 { report(.dropped(count: dropped)) }
            return false
        }
        jobs.yield(Job(message: message, settings: settings, report: report))
        return true
    }

    /// Mails queued or being sent.
    public var waiting: Int { shared.state.withLock { $0.waiting } }

    /// Waits until every queued mail was sent or failed, or `seconds` passed (at exit, so a
    /// start-up failure's CRITICAL still goes out). Returns whether the queue is empty.
    @discardableResult
    public func waitUntilIdle(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while waiting > 0 && Date() < deadline { usleep(10_000) }
        return waiting == 0
    }
}
