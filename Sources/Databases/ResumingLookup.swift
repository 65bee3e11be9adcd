import DHCPWire

/// A remote database whose lookups wait without holding a thread, resume their caller on the
/// caller's own executor, and keep their own `DATABASE_TIMEOUT` deadline.
///
/// The engine awaits these on its own thread (docs/ARCHITECTURE.md, "Concurrency",
/// "Databases on that thread"):
/// a lookup then costs two hand-offs between threads, to the driver's event loop and back,
/// instead of a task of its own, a deadline task and the hops through Swift's global executor.
/// As it bounds its own lookups, `DatabaseFactory` does not wrap it in `TimeoutDatabase`.
public protocol ResumingLookup: Database {
    /// The definitions for `mac`, as `lookupMAC` gives them, resumed on the caller's executor.
    nonisolated(nonsending) func lookupResuming(_ mac: MAC) async throws -> [Definition]
}
