import DHCPService
import Databases
import Testing

/// Runs test code on an engine thread (DHCPService's `EngineThread`), where the daemon runs its
/// hooks and lookups: a PostgreSQL statement issued there goes through the connections that
/// thread reads and writes itself (`LoopTransport`), not the driver's event loops.
actor OnEngineThread {
    let thread = EngineThread(name: "test-engine")

    nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }

    func run<T: Sendable>(_ body: nonisolated(nonsending) @Sendable () async throws -> T) async throws -> T {
        #expect(SocketLoops.current === thread, "the test body runs on the engine thread")
        return try await body()
    }

    deinit { thread.stop() }
}

/// Runs `body` on an engine thread when `onEngineThread`, else on the test's own task.
func run(onEngineThread: Bool, _ body: nonisolated(nonsending) @Sendable () async throws -> Void) async throws {
    if onEngineThread {
        try await OnEngineThread().run(body)
    } else {
        try await body()
    }
}
