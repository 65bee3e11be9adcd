import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Single statements on a few PostgreSQL connections of their own: the shared store's (every
/// operation outside a transaction) and the reservation lookups (`PostgreSQLDatabase`), driven
/// with NIO's futures: a statement is written to its connection at once, its answer completes a
/// promise on the connection's event loop, and a timer there bounds it. No task, no pool lease and
/// no second timer task per statement, so a round trip costs the waiting hook or lookup two
/// hand-offs between threads (the engine's thread to the event loop and back) instead of the nine
/// or so of the pooled path (docs/BENCHMARK.md, "Dynamic pools").
///
/// Statements are spread over the connections in turn; each connection runs its own one after
/// another. A connection that fails or outlives a statement's time-out is closed, and the next
/// statement for its slot connects again, so a PostgreSQL that restarts is picked up without help.
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

    /// How many statements a connection keeps prepared. The store uses about ten and a lookup
    /// one; past this, the oldest-made is dropped to make room (a changed table's new SQL).
    static let preparedPerConnection = 32

    private let slots: [Locked<SlotState>]
    private let turn = Atomic<Int>(0)
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
        slots = (0..<max(1, count)).map { _ in Locked(SlotState()) }
    }

    /// A statement took longer than the time-out given to `run` (its connection is closed).
    struct TimedOut: Error {}

    /// Runs `query` on the next connection; fails with `TimedOut` after `timeout` seconds, or
    /// with the driver's error.
    func run(_ query: PostgresQuery, timeout: Double) -> EventLoopFuture<[PostgresRow]> {
        perform(timeout: timeout) { [logger] connection, _, _ in
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
            return group.any().makeFailedFuture(StatementArgument.NULInText(text: text))
        }
        // A statement without parameters is run with a bare EXECUTE: "()" is a syntax error.
        let constants = arguments.isEmpty ? "" : "(" + arguments.map(\.constant).joined(separator: ", ") + ")"
        return perform(timeout: timeout) { [self, logger] connection, index, generation in
            let (name, ready) = statement(sql, index: index, generation: generation, on: connection)
            let execute = PostgresQuery(unsafeSQL: "EXECUTE \(name)\(constants)")
            return ready.flatMap { connection.query(execute, logger: logger) }.map(\.rows)
                .flatMapErrorThrowing { [self] error in
                    slots[index].withLock { state in
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
        _ sql: String, index: Int, generation: Int, on connection: PostgresConnection
    ) -> (String, EventLoopFuture<Void>) {
        slots[index].withLock { state in
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

    /// Runs `work` on the next slot's connection (connecting first when needed), with one timer
    /// for the connecting and the work together.
    private func perform(
        timeout: Double,
        _ work: @escaping @Sendable (PostgresConnection, Int, Int) -> EventLoopFuture<[PostgresRow]>
    ) -> EventLoopFuture<[PostgresRow]> {
        let index = turn.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count
        let deadline = TimeAmount.nanoseconds(Int64(timeout * 1_000_000_000))
        let (connecting, generation) = connection(index)
        let promise = connecting.eventLoop.makePromise(of: [PostgresRow].self)
        let timer = connecting.eventLoop.scheduleTask(in: deadline) { [self] in
            promise.fail(TimedOut())
            discard(index, generation)
        }
        connecting.whenComplete { [self] outcome in
            switch outcome {
            case .failure(let error):
                discard(index, generation)
                timer.cancel()
                promise.fail(error)
            case .success(let connection):
                work(connection, index, generation).whenComplete { answer in
                    timer.cancel()
                    switch answer {
                    case .success(let rows): promise.succeed(rows)
                    case .failure(let error):
                        if connection.isClosed { self.discard(index, generation) }
                        promise.fail(error)
                    }
                }
            }
        }
        return promise.futureResult
    }

    /// Closes every connection; statements afterwards connect again.
    func closeAll() {
        for index in slots.indices { discard(index, nil) }
    }

    /// The open connection of a slot, or one being made, and its generation.
    private func connection(_ index: Int) -> (EventLoopFuture<PostgresConnection>, Int) {
        slots[index].withLock { state in
            switch state.slot {
            case .open(let connection) where !connection.isClosed:
                return (connection.eventLoop.makeSucceededFuture(connection), state.generation)
            case .connecting(let future):
                return (future, state.generation)
            default:
                let id = connectionIDs.wrappingAdd(1, ordering: .relaxed).oldValue
                let future = PostgresConnection.connect(
                    on: group.next(), configuration: configuration, id: id, logger: logger)
                state.generation += 1
                state.prepared = [:]
                state.slot = .connecting(future)
                let generation = state.generation
                future.whenComplete { [self] outcome in
                    slots[index].withLock { state in
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

    /// Forgets a slot's connection of `generation` (any, when nil), closing it, so the next
    /// statement there connects again.
    private func discard(_ index: Int, _ generation: Int?) {
        let previous = slots[index].withLock { state -> Slot in
            guard generation == nil || state.generation == generation else { return .empty }
            defer {
                state.slot = .empty
                state.prepared = [:]
            }
            return state.slot
        }
        switch previous {
        case .open(let connection): Self.close(connection)
        case .connecting(let future): future.whenSuccess { Self.close($0) }
        case .empty: break
        }
    }

    /// Closes a connection, keeping it alive until it is closed (the driver insists).
    private static func close(_ connection: PostgresConnection) {
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
