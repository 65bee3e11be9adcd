import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts helper programs for the tests with posix_spawn and reaps them with waitpid.
///
/// Foundation's `Process` is avoided on purpose: on Linux its exit notification can be lost when
/// several are waited on at once from Swift concurrency's threads, leaving tests hung on
/// zombies.
enum ChildProcess {
    /// Runs `arguments[0]` to completion; throws with its output when it fails.
    static func run(_ arguments: [String]) throws {
        let output = NSTemporaryDirectory() + "staticdhcpd-child-\(UUID().uuidString).log"
        defer { unlink(output) }
        let pid = try spawn(arguments, output: output)
        let status = wait(pid)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw TestServerError("\(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }

    /// Starts `arguments[0]` in the background, its output sent to `output` (or discarded).
    static func spawn(_ arguments: [String], output: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The spawning thread may block signals (Swift's runtime threads do); a child inherits that
        // mask, and a server that never unblocks SIGTERM (memcached) would then ignore `stop()`
        // forever. Start every child with no signal blocked and default handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard result == 0 else { throw TestServerError("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Waits for `pid`; its exit status, or 128 + signal.
    @discardableResult
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// Runs blocking work (starting servers, waiting for programs) on its own thread, so Swift
/// concurrency's few cooperative threads stay free for the code under test: a blocked pool
/// would delay timers and make timing assertions meaningless.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
