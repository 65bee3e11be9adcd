// Lookup throughput of the database engines on 100,000 reservations (scripts/bench-db).
//
//   DBBench SQLITE_FILE [--postgres HOST:PORT:USER:PASSWORD:DATABASE] [--lookups N] [--tasks N]
//   DBBench --store-round-trips N --postgres ...   (CPU and time of one shared-store statement)
//   DBBench --postgres-only --postgres ... [--postgres ...]   (one row per database: schemas compared)
//
// SQLITE_FILE is created (with --create) or reused; it must hold reservations for MACs
// 02:00:00:00:00:00 upwards, which is what --create writes.
import DHCPWire
import Databases
import Foundation
import Logging
import NIOPosix
import PostgresNIO

struct Options {
    var sqliteFile = ""
    var create = false
    var lookups = 100_000
    var tasks = 4
    var reservations = 100_000
    var storeRoundTrips = 0
    /// Skips the SQLite rows, for comparing PostgreSQL databases (text and native column types).
    var postgresOnly = false
    /// Every `--postgres` given; the first is the one the store round trips use.
    var postgresDatabases: [DatabaseConfiguration.PostgreSQL] = []
    var postgres: DatabaseConfiguration.PostgreSQL? { postgresDatabases.first }

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--create": create = true
            case "--lookups": lookups = Int(iterator.next() ?? "") ?? lookups
            case "--tasks": tasks = Int(iterator.next() ?? "") ?? tasks
            case "--store-round-trips": storeRoundTrips = Int(iterator.next() ?? "") ?? 0
            case "--postgres-only": postgresOnly = true
            case "--postgres":
                let parts = (iterator.next() ?? "").split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 5, let port = Int(parts[1]) else {
                    throw DatabaseError.configuration("--postgres wants HOST:PORT:USER:PASSWORD:DATABASE")
                }
                var settings = DatabaseConfiguration.PostgreSQL()
                settings.host = parts[0]
                settings.port = port
                settings.username = parts[2]
                settings.password = parts[3]
                settings.database = parts[4]
                settings.maximumConnections = 4
                postgresDatabases.append(settings)
            default: sqliteFile = argument
            }
        }
        guard !sqliteFile.isEmpty || storeRoundTrips > 0 || (postgresOnly && !postgresDatabases.isEmpty) else { throw DatabaseError.configuration("usage: DBBench SQLITE_FILE [--create] [--postgres ...]") }
    }
}

func macFor(_ index: Int) -> MAC { MAC(0x0200_0000_0000 + UInt64(index)) }

func createReservations(_ path: String, count: Int) throws {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    let reservations = try Reservations(path: path)
    try reservations.initSchema()
    try reservations.addSubnet(SubnetRecord(
        subnet: "bench", serial: 0, leaseTime: 3600, gateways: [IPv4(198, 51, 100, 1)], subnetMask: IPv4(255, 255, 0, 0),
        domainName: "bench.test", domainNameServers: [IPv4(198, 51, 100, 53)]))
    var csv = "mac,ip,subnet,serial,hostname\n"
    for index in 0..<count {
        csv += "\(macFor(index)),\(IPv4(0xC633_0000 &+ UInt32(index))),bench,0,host\(index)\n"
    }
    try reservations.importCSV(text: csv, source: "generated")
}

/// Runs `lookups` lookups of random known MACs over `tasks` concurrent tasks; returns lookups/s.
func measure(_ name: String, _ database: any Database, options: Options) async throws -> Double {
    // Warm up (and fill caches).
    for index in stride(from: 0, to: options.reservations, by: max(1, options.reservations / 1000)) {
        _ = try await database.lookupMAC(macFor(index))
    }
    let perTask = options.lookups / options.tasks
    let cpuBefore = processCPU()
    let started = ContinuousClock.now
    let found = try await withThrowingTaskGroup(of: Int.self) { group in
        for task in 0..<options.tasks {
            group.addTask {
                var generator = SystemRandomNumberGenerator()
                var hits = 0
                for _ in 0..<perTask {
                    // Warm-up covered every 100th MAC: cache runs look those up, others look anything up.
                    let index = name.contains("cache")
                        ? Int.random(in: 0..<1000, using: &generator) * (options.reservations / 1000)
                        : Int.random(in: 0..<options.reservations, using: &generator)
                    hits += try await database.lookupMAC(macFor(index)).count
                }
                _ = task
                return hits
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - started
    let cpuPerLookup = (processCPU() - cpuBefore) / Double(perTask * options.tasks)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = Double(perTask * options.tasks) / seconds
    guard found == perTask * options.tasks else {
        throw DatabaseError.rejected("\(name): only \(found) of \(perTask * options.tasks) lookups matched")
    }
    let label = name.count < 28 ? name + String(repeating: " ", count: 28 - name.count) : name
    print(label + String(format: " %10.0f lookups/s  (%d lookups, %d tasks, %.2f s, %.1f µs CPU each)", rate,
                         perTask * options.tasks, options.tasks, seconds, cpuPerLookup))
    return rate
}

/// The engine's path: `lookupImmediately` in a loop on one thread, as the engine's thread calls it.
/// Returns lookups/s; a lookup the database cannot answer at once counts as a failure.
func measureImmediate(_ name: String, _ database: any Database, options: Options) async throws -> Double {
    guard let immediate = database as? any ImmediateLookup else {
        throw DatabaseError.rejected("\(name): no immediate path")
    }
    for index in stride(from: 0, to: options.reservations, by: max(1, options.reservations / 1000)) {
        _ = try await database.lookupMAC(macFor(index))
    }
    var generator = SystemRandomNumberGenerator()
    var found = 0
    let started = ContinuousClock.now
    for _ in 0..<options.lookups {
        let index = name.contains("cache")
            ? Int.random(in: 0..<1000, using: &generator) * (options.reservations / 1000)
            : Int.random(in: 0..<options.reservations, using: &generator)
        found += try immediate.lookupImmediately(macFor(index))?.count ?? 0
    }
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    guard found == options.lookups else {
        throw DatabaseError.rejected("\(name): only \(found) of \(options.lookups) lookups answered at once")
    }
    let rate = Double(options.lookups) / seconds
    let label = name.count < 28 ? name + String(repeating: " ", count: 28 - name.count) : name
    print(label + String(format: " %10.0f lookups/s  (%d lookups, engine thread, %.2f s, %.2f us each)", rate,
                         options.lookups, seconds, seconds / Double(options.lookups) * 1e6))
    return rate
}

/// This process's CPU time so far, in microseconds.
func processCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
}

/// `count` statements of the shared store one after another, as a hook's round trips are.
func measureStoreRoundTrips(_ settings: DatabaseConfiguration.PostgreSQL, count: Int, logger: Logger) async throws {
    let store = try PostgreSQLStore(settings: settings, timeout: 5, logger: logger)
    _ = try await store.perform(.put("dbbench", "1"), in: nil)
    for (name, request) in [("get", StoreRequest.get("dbbench")), ("cas", .swap(key: "dbbench", value: "1", expected: "1"))] {
        for tasks in [1, 16] {
            let before = processCPU()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask { for _ in 0..<(count / tasks) { _ = try await store.perform(request, in: nil) } }
                }
                try await group.waitForAll()
            }
            let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
            print(String(format: "store %@, %d at once: %.1f µs CPU per statement, %.0f statements/s", name, tasks,
                         (processCPU() - before) / Double(count), Double(count) / seconds))
        }
    }
}

/// The same statement with the driver alone: each query sent from the event loop when the last
/// one's answer is in, no Swift concurrency at all.
func measureDriverRoundTrips(_ settings: DatabaseConfiguration.PostgreSQL, count: Int, logger: Logger) async throws {
    let configuration = PostgresConnection.Configuration(
        host: settings.host ?? "127.0.0.1", port: settings.port, username: settings.username ?? "",
        password: settings.password, database: settings.database, tls: .disable)
    let connection = try await PostgresConnection.connect(
        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger).get()
    let before = processCPU()
    let started = ContinuousClock.now
    let done = connection.eventLoop.makePromise(of: Void.self)
    @Sendable func next(_ remaining: Int) {
        guard remaining > 0 else { return done.succeed() }
        connection.query("SELECT value FROM staticdhcpd_store WHERE key = 'dbbench'", logger: logger).whenComplete { _ in next(remaining - 1) }
    }
    connection.eventLoop.execute { next(count) }
    try await done.futureResult.get()
    let wall = (ContinuousClock.now - started) / count
    print(String(format: "driver alone: %.1f µs CPU per statement, ", (processCPU() - before) / Double(count)) + "\(wall) per round trip")
    try await connection.close()
}

let options = try Options(CommandLine.arguments)
var logger = Logger(label: "DBBench")
logger.logLevel = .warning
if options.storeRoundTrips > 0, let postgres = options.postgres {
    try await measureStoreRoundTrips(postgres, count: options.storeRoundTrips, logger: logger)
    try await measureDriverRoundTrips(postgres, count: options.storeRoundTrips, logger: logger)
    exit(0)
}
if options.postgresOnly {
    for settings in options.postgresDatabases {
        var postgres = DatabaseConfiguration(engine: .named("PostgreSQL"))
        postgres.postgresql = settings
        postgres.lookupTimeout = nil
        _ = try await measure("PostgreSQL \(settings.database ?? "")", try DatabaseFactory.make(postgres, logger: logger), options: options)
    }
    exit(0)
}
if options.create {
    let started = ContinuousClock.now
    try createReservations(options.sqliteFile, count: options.reservations)
    print("created \(options.reservations) reservations in \(options.sqliteFile) in \(ContinuousClock.now - started)")
    if options.lookups == 0 { exit(0) }
}

var sqlite = DatabaseConfiguration(engine: .named("SQLite"))
sqlite.sqliteFile = options.sqliteFile
sqlite.lookupTimeout = nil
_ = try await measureImmediate("SQLite, immediate", try DatabaseFactory.make(sqlite, logger: logger), options: options)
var cached = sqlite
cached.useCache = true
_ = try await measureImmediate("memory cache, immediate", try DatabaseFactory.make(cached, logger: logger), options: options)
_ = try await measure("SQLite", try DatabaseFactory.make(sqlite, logger: logger), options: options)
var sqliteSerial = options
sqliteSerial.tasks = 1
_ = try await measure("SQLite (1 task)", try DatabaseFactory.make(sqlite, logger: logger), options: sqliteSerial)
sqlite.lookupTimeout = 5
_ = try await measure("SQLite + DATABASE_TIMEOUT", try DatabaseFactory.make(sqlite, logger: logger), options: options)
sqlite.useCache = true
_ = try await measure("memory cache (over SQLite)", try DatabaseFactory.make(sqlite, logger: logger), options: options)
sqlite.diskCache = true
_ = try await measure("disk cache (over SQLite)", try DatabaseFactory.make(sqlite, logger: logger), options: options)

for settings in options.postgresDatabases {
    var postgres = DatabaseConfiguration(engine: .named("PostgreSQL"))
    postgres.postgresql = settings
    postgres.lookupTimeout = nil
    _ = try await measure("PostgreSQL \(settings.database ?? "")", try DatabaseFactory.make(postgres, logger: logger), options: options)
}
