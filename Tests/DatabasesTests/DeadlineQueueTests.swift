import DHCPWire
@testable import Databases
import Foundation
import Testing

/// `DATABASE_TIMEOUT` against backends that never answer, answer at once, or lose their caller.
@Suite struct DeadlineQueueTests {
    @Test func hungLookupsAllFailWithTheTimeoutAndTheirWorkIsCancelled() async throws {
        let hung = HungDatabase()
        let database = TimeoutDatabase(hung, seconds: 0.3)
        let started = ContinuousClock.now
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    do { _ = try await database.lookupMAC(ReservationSet.alpha); return nil } catch { return error }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(errors.count == 50)
        #expect(errors.allSatisfy { ($0 as? DatabaseError) == .timeout(engine: "Hung", seconds: 0.3) })
        // Ten times the timeout: the callers did not wait for a backend that never answers.
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(database.deadlines.pendingCount == 0)
        #expect(await eventually { hung.cancelled == 50 })
        hung.release()
        #expect(await eventually { !database.deadlines.isWatching })
    }

    @Test func aHungReinitialiseTimesOutToo() async throws {
        let hung = HungDatabase()
        let database = TimeoutDatabase(hung, seconds: 0.2)
        await #expect(throws: DatabaseError.timeout(engine: "Hung", seconds: 0.2)) { try await database.reinitialise() }
        hung.release()
    }

    @Test func aQuickAnswerIsReturnedAndLeavesNothingPending() async throws {
        let quick = ScriptedDatabase(ReservationSet.expected.mapValues { [$0] })
        let database = TimeoutDatabase(quick, seconds: 0.2)
        for _ in 0..<20 {
            #expect(try await database.lookupMAC(ReservationSet.alpha) == [ReservationSet.expected[ReservationSet.alpha]!])
            #expect(database.deadlines.pendingCount == 0)
        }
        // The watcher wakes at the last deadline at the latest, finds nothing and ends.
        #expect(await eventually { !database.deadlines.isWatching })
        // A later lookup starts another one, which still fails a hung backend.
        quick.delay = 30
        await #expect(throws: DatabaseError.timeout(engine: "Scripted", seconds: 0.2)) {
            try await database.lookupMAC(ReservationSet.alpha)
        }
    }

    @Test func aCancelledCallerGetsCancellationErrorAtOnce() async throws {
        let hung = HungDatabase()
        let database = TimeoutDatabase(hung, seconds: 60)
        let caller = Task { try await database.lookupMAC(ReservationSet.alpha) }
        #expect(await eventually { hung.started == 1 })
        let started = ContinuousClock.now
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(await eventually { hung.cancelled == 1 })
        hung.release()
        #expect(await eventually { database.deadlines.pendingCount == 0 })
    }
}

/// True once `condition` holds, polling for up to 10 s.
private func eventually(_ condition: @Sendable () -> Bool) async -> Bool {
    let end = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A backend that answers nothing until the test releases it, ignoring cancellation (a driver
/// stuck in a read), but counting the cancellations it was asked for.
private final class HungDatabase: Database, Sendable {
    private struct State {
        var waiting: [CheckedContinuation<Void, Never>] = []
        var released = false
        var started = 0
        var cancelled = 0
    }

    private let state = Locked(State())
    var engineName: String { "Hung" }
    var started: Int { state.withLock { $0.started } }
    var cancelled: Int { state.withLock { $0.cancelled } }

    func lookupMAC(_ mac: MAC) async throws -> [Definition] {
        try await reinitialise()
        return []
    }

    func reinitialise() async throws {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    state.started += 1
                    if !state.released { state.waiting.append(continuation) }
                    return state.released
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.cancelled += 1 }
        }
    }

    func release() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
