/// Thrown when an operation did not finish within its deadline.
struct DeadlineExceeded: Error, Sendable {
    let limit: Duration
}

/// Runs `operation` but returns (throwing `DeadlineExceeded`) once `limit` has passed, even if the
/// operation ignores cancellation. A task group would wait for a hung child before returning, so the
/// operation runs in an unstructured task that is cancelled and abandoned on timeout; a Lua callback
/// stuck on the script executor therefore cannot hang the HTTP request.
func withDeadline<Value: Sendable>(
    _ limit: Duration, operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let gate = ResumeOnce<Value>()
    return try await withCheckedThrowingContinuation { continuation in
        let work = Task {
            do {
                let value = try await operation()
                await gate.resume(continuation, with: .success(value))
            } catch {
                await gate.resume(continuation, with: .failure(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            if await gate.resume(continuation, with: .failure(DeadlineExceeded(limit: limit))) { work.cancel() }
        }
        Task {
            _ = await work.result
            timer.cancel()
        }
    }
}

/// Resumes a continuation exactly once, whichever of the racing tasks gets there first.
private actor ResumeOnce<Value: Sendable> {
    private var resumed = false

    @discardableResult
    func resume(_ continuation: CheckedContinuation<Value, any Error>, with result: Result<Value, any Error>) -> Bool {
        guard !resumed else { return false }
        resumed = true
        continuation.resume(with: result)
        return true
    }
}
