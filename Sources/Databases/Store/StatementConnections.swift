import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Single statements on a few PostgreSQL connections of their own: the shared store's (every
/// operation outside a transaction) and the reservation lookups (`PostgreSQLDatabase`), driven
/// with NIO's futures: a statement is written to its connection at once, its answer completes a
/// promise, and a timer bounds it. No task, no pool lease and no second timer task per statement.
///
/// Statements issued on a `SocketLoop` (the engine's thread: hooks and lookups) run on connections
/// that thread reads and writes itself (`LoopTransport`), so a round trip involves no other thread.
/// Statements issued anywhere else (the dashboard, `init()`, a reload's check) run on connections
/// of the driver's event loops, at the cost of two hand-offs between threads.
///
/// Statements are spread over a lane's connections in turn; each connection runs its own one
/// after another. A connection that fails or outlives a statement's time-out is closed, and the
/// next statement for its slot connects again, so a PostgreSQL that restarts is picked up without
/// help.
final class StatementConnections: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<PostgresConnection>)
        case open(PostgresConnection)
    }

    /// A slot's connection, and which one it is: a failure discards only the connection it
    /// happened on, never a newer one made since.
    private struct SlotState {
        var slot = Slot.empty
        var generation = 0
        /// The statements prepared on this generation's connection by `run(prepared:)`, by SQL:
        /// each one's number (its name is `staticdhcpd_<number>`) and when its PREPARE is done.
        var prepared: [String: (id: Int, ready: EventLoopFuture<Void>)] = [:]
    }

    /// One set of connections and where they run: the driver's event loops, or one socket loop's
    /// thread (`transport`; then only that thread touches them).
    private final class Lane: Sendable {
        let slots: [Locked<SlotState>]
        let turn = Atomic<Int>(0)
        let transport: LoopTransport?

        init(count: Int, transport: LoopTransport?) {
            slots = (0..<max(1, count)).map { _ in Locked(SlotState()) }
            self.transport = transport
        }

        /// Forgets a slot's connection of `generation` (any, when nil), closing it, so the next
        /// statement there connects again.
        func discard(_ index: Int, _ generation: Int?) {
            let previous = slots[index].withLock { state -> Slot in
                guard generation == nil || state.generation == generation else { return .empty }
                defer {
                    state.slot = .empty
                    state.prepared = [:]
                }
                return state.slot
            }
            switch previous {
            case .open(let connection): StatementConnections.close(connection)
            case .connecting(let future): future.whenSuccess { StatementConnections.close($0) }
            case .empty: break
            }
        }
    }

    /// How many statements a connection keeps prepared. The store uses about ten and a lookup
    /// one; past this, the oldest-made is dropped to make room (a changed table's new SQL).
    static let preparedPerConnection = 32

    private let count: Int
    /// The driver's event loops' connections, for statements issued off any socket loop.
    private let shared: Lane
    /// The first socket loop's connections (made when it issues its first statement). Another
    /// socket loop's statements (a second engine in one process: tests) use `shared`.
    private let looped = Locked<Lane?>(nil)
    private let connectionIDs = Atomic<Int>(0)
    private let statementIDs = Atomic<Int>(0)
    private let configuration: PostgresConnection.Configuration
    private let group: any EventLoopGroup
    private let logger: Logger

    init(configuration: PostgresConnection.Configuration, count: Int, logger: Logger,
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.count = count
        shared = Lane(count: count, transport: nil)
    }

    /// A statement took longer than the time-out given to `run` (its connection is closed).
    struct TimedOut: Error {}

    /// Runs `query` on the next connection; fails with `TimedOut` after `timeout` seconds, or
    /// with the driver's error. The future belongs to the calling thread's socket loop when it
    /// has one: wait on it there.
    func run(_ query: PostgresQuery, timeout: Double) -> EventLoopFuture<[PostgresRow]> {
        perform(timeout: timeout) { [logger] connection, _, _, _ in
            connection.query(query, logger: logger).map(\.rows)
        }
    }

    /// Runs `sql` as a statement prepared once per connection, with `arguments` as its parameters
    /// ($1, $2...); otherwise as `run`. PostgreSQL then parses and plans the statement once per
    /// connection rather than per call, which for a lookup by key is most of its work.
    ///
    /// The statement is made with SQL's PREPARE and run with EXECUTE, its arguments written as
    /// constants (the driver's own prepared statements need SQL fixed at compile time, and its
    /// asynchronous API would add hops between threads). A failure forgets the statement, so the
    /// next call prepares it again (a table changed under it).
    func run(prepared sql: String, arguments: [StatementArgument], timeout: Double) -> EventLoopFuture<[PostgresRow]> {
        if let text = arguments.lazy.flatMap(\.texts).first(where: { $0.utf8.contains(0) }) {
            return (SocketLoops.current.flatMap { lane(for: $0).transport?.eventLoop } ?? group.any())
                .makeFailedFuture(StatementArgument.NULInText(text: text))
        }
        // A statement without parameters is run with a bare EXECUTE: "()" is a syntax error.
        let constants = arguments.isEmpty ? "" : "(" + arguments.map(\.constant).joined(separator: ", ") + ")"
        return perform(timeout: timeout) { [self, logger] connection, lane, index, generation in
            let (name, ready) = statement(sql, lane: lane, index: index, generation: generation, on: connection)
            let execute = PostgresQuery(unsafeSQL: "EXECUTE \(name)\(constants)")
            return ready.flatMap { connection.query(execute, logger: logger) }.map(\.rows)
                .flatMapErrorThrowing { error in
                    lane.slots[index].withLock { state in
                        if state.generation == generation && state.prepared[sql].map({ Self.name($0.id) }) == name {
                            state.prepared[sql] = nil
                        }
                    }
                    throw error
                }
        }
    }

    /// The name of `sql`'s statement on this slot's connection, and when it is ready to run:
    /// prepared by the first call, then shared by the calls after it.
    private func statement(
        _ sql: String, lane: Lane, index: Int, generation: Int, on connection: PostgresConnection
    ) -> (String, EventLoopFuture<Void>) {
        lane.slots[index].withLock { state in
            if state.generation == generation, let prepared = state.prepared[sql] {
                return (Self.name(prepared.id), prepared.ready)
            }
            let id = statementIDs.wrappingAdd(1, ordering: .relaxed).oldValue
            let ready = connection.query(PostgresQuery(unsafeSQL: "PREPARE \(Self.name(id)) AS \(sql)"), logger: logger).map { _ in }
            if state.generation == generation {
                if state.prepared.count >= Self.preparedPerConnection,
                   let oldest = state.prepared.min(by: { $0.value.id < $1.value.id }) {
                    state.prepared[oldest.key] = nil
                    connection.query(PostgresQuery(unsafeSQL: "DEALLOCATE \(Self.name(oldest.value.id))"), logger: logger).whenComplete { _ in }
                }
                state.prepared[sql] = (id, ready)
            }
            return (Self.name(id), ready)
        }
    }

    private static func name(_ id: Int) -> String { "staticdhcpd_\(id)" }

    /// The lane for statements issued on `loop`'s thread.
    private func lane(for loop: any SocketLoop) -> Lane {
        looped.withLock { lane in
            if let lane { return lane.transport!.loop === loop ? lane : shared }
            let made = Lane(count: count, transport: LoopTransport(loop: loop, logger: logger))
            lane = made
            return made
        }
    }

    /// Runs `work` on the next slot's connection of the calling thread's lane (connecting first
    /// when needed), with one timer for the connecting and the work together.
    private func perform(
        timeout: Double,
        _ work: @escaping @Sendable (PostgresConnection, Lane, Int, Int) -> EventLoopFuture<[PostgresRow]>
    ) -> EventLoopFuture<[PostgresRow]> {
        let lane = SocketLoops.current.map { self.lane(for: $0) } ?? shared
        let index = lane.turn.wrappingAdd(1, ordering: .relaxed).oldValue % lane.slots.count
        let deadline = TimeAmount.nanoseconds(Int64(timeout * 1_000_000_000))
        let (connecting, generation) = connection(lane, index)
        let promise = connecting.eventLoop.makePromise(of: [PostgresRow].self)
        let expired: @Sendable () -> Void = { [self] in
            promise.fail(TimedOut())
            lane.discard(index, generation)
        }
        let cancelTimer: @Sendable () -> Void
        if let transport = lane.transport {
            let expiry = transport.expire(at: .now() + deadline, expired)
            cancelTimer = { transport.finished(expiry) }
        } else {
            let timer = connecting.eventLoop.scheduleTask(in: deadline, expired)
            cancelTimer = { timer.cancel() }
        }
        connecting.whenComplete { [self] outcome in
            switch outcome {
            case .failure(let error):
                lane.discard(index, generation)
                cancelTimer()
                promise.fail(error)
            case .success(let connection):
                work(connection, lane, index, generation).whenComplete { answer in
                    cancelTimer()
                    switch answer {
                    case .success(let rows): promise.succeed(rows)
                    case .failure(let error):
                        if connection.isClosed { lane.discard(index, generation) }
                        promise.fail(error)
                    }
                }
            }
        }
        // The statement is written already; this runs what the driver queued besides.
        lane.transport?.drive()
        return promise.futureResult
    }

    /// How many connections are open in each lane (for tests: which one statements took).
    var openConnections: (shared: Int, looped: Int) {
        func open(_ lane: Lane?) -> Int {
            lane?.slots.reduce(0) { count, slot in
                count + slot.withLock { state in
                    if case .open(let connection) = state.slot, !connection.isClosed { 1 } else { 0 }
                }
            } ?? 0
        }
        return (open(shared), open(looped.withLock { $0 }))
    }

    /// Closes every connection; statements afterwards connect again. A socket loop's are closed
    /// on its thread.
    func closeAll() {
        for index in shared.slots.indices { shared.discard(index, nil) }
        // The socket loop's lane leaves with its last connections, on its thread.
        guard let lane = looped.withLock({ lane in defer { lane = nil }; return lane }), let transport = lane.transport else { return }
        transport.loop.execute {
            for index in lane.slots.indices { lane.discard(index, nil) }
            transport.drive()
        }
    }

    /// The open connection of a slot, or one being made, and its generation.
    private func connection(_ lane: Lane, _ index: Int) -> (EventLoopFuture<PostgresConnection>, Int) {
        lane.slots[index].withLock { state in
            switch state.slot {
            case .open(let connection) where !connection.isClosed:
                return (connection.eventLoop.makeSucceededFuture(connection), state.generation)
            case .connecting(let future):
                return (future, state.generation)
            default:
                let id = connectionIDs.wrappingAdd(1, ordering: .relaxed).oldValue
                let future = lane.transport?.connect(configuration, id: id, logger: logger)
                    ?? PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger)
                state.generation += 1
                state.prepared = [:]
                state.slot = .connecting(future)
                let generation = state.generation
                future.whenComplete { outcome in
                    lane.slots[index].withLock { state in
                        guard state.generation == generation, case .connecting = state.slot else { return }
                        switch outcome {
                        case .success(let connection): state.slot = .open(connection)
                        case .failure: state.slot = .empty
                        }
                    }
                }
                return (future, generation)
            }
        }
    }

    /// Closes a connection, keeping it alive until it is closed (the driver insists).
    fileprivate static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }
}

/// A parameter of a statement that `StatementConnections.run(prepared:)` runs, written into its
/// EXECUTE as a constant.
enum StatementArgument: Sendable, Equatable {
    case text(String)
    case textArray([String])
    case integer(Int64)

    /// PostgreSQL's text cannot hold a NUL byte, and the EXECUTE would be cut at one.
    struct NULInText: Error, CustomStringConvertible {
        let text: String
        var description: String { "a text holds a NUL byte, which PostgreSQL's text cannot: \(text.debugDescription)" }
    }

    /// The texts it carries.
    var texts: [String] {
        switch self {
        case .text(let text): [text]
        case .textArray(let texts): texts
        case .integer: []
        }
    }

    /// The argument as an SQL constant. A text is an escape string (E'...'), which reads the same
    /// whatever standard_conforming_strings says, so a quote or a backslash in it stays data; its
    /// type is left for PostgreSQL to take from the prepared statement's parameter.
    var constant: String {
        switch self {
        case .text(let text): Self.escaped(text)
        case .textArray(let texts): "ARRAY[" + texts.map(Self.escaped).joined(separator: ", ") + "]::text[]"
        case .integer(let value): "\(value)"
        }
    }

    private static func escaped(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") }) {
            return "E'" + text + "'"
        }
        var constant = "E'"
        constant.reserveCapacity(text.utf8.count + 3)
        for character in text.unicodeScalars {
            switch character {
            case "'": constant += "''"
            case "\\": constant += "\\\\"
            default: constant.unicodeScalars.append(character)
            }
        }
        return constant + "'"
    }
}
