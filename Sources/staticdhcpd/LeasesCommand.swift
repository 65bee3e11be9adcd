import ArgumentParser
import Databases
import DHCPWire
import Dispatch
import Foundation
import Logging
import Scripting
import Synchronization

/// `staticdhcpd leases list|export|release MAC`: the dynamism pools' leases in the store conf.lua
/// names (STORE_ENGINE: this daemon's SQLite file, or the PostgreSQL store every daemon shares).
struct LeasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leases",
        abstract: "List, export or release dynamic pool leases (the dynamism extension's) in the store.",
        subcommands: [List.self, Export.self, Release.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per lease: pool, MAC, address, state, expiry, hostname (- when unknown).")
        @OptionGroup var config: ConfigOption
        @Option(help: "Only this pool.") var pool: String?
        @Flag(help: "JSON instead of a table.") var json = false

        func run() throws {
            let config = self.config
            let leases = try LeasesCommand.blocking { try await PoolLeases.read(from: try await LeasesCommand.openStore(config)) }
                .filter { pool == nil || $0.pool == pool }
            if json {
                print(try PoolLeases.json(leases))
                return
            }
            let formatter = ISO8601DateFormatter()
            for lease in leases {
                let expiry = formatter.string(from: lease.expires)
                print([lease.pool, lease.mac, lease.ip, lease.state, expiry, lease.hostname ?? "-"].joined(separator: "\t"))
            }
            FileHandle.standardError.write(Data("\(leases.count) leases\n".utf8))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every lease as CSV (pool,mac,ip,state,expires,hostname).")
        @OptionGroup var config: ConfigOption
        func run() throws {
            let config = self.config
            print(PoolLeases.csv(try LeasesCommand.blocking { try await PoolLeases.read(from: try await LeasesCommand.openStore(config)) }), terminator: "")
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Free a MAC's lease in every pool, for every daemon of the store.")
        @OptionGroup var config: ConfigOption
        @Argument(help: "The client's MAC address.") var mac: String

        func run() throws {
            guard let parsed = MAC(mac)?.description else { throw ValidationError("'\(mac)' is not a MAC address") }
            let config = self.config
            let released = try LeasesCommand.blocking { try await PoolLeases.release(parsed, in: try await LeasesCommand.openStore(config)) }
            guard !released.isEmpty else {
                FileHandle.standardError.write(Data("\(parsed) holds no lease\n".utf8))
                throw ExitCode(1)
            }
            for lease in released { print("released \(lease.ip) of \(parsed) in pool \(lease.pool)") }
        }
    }

    /// The store conf.lua names, as the daemon would open it (without creating the shared tables).
    static func openStore(_ config: ConfigOption) async throws -> ScriptStore {
        let configFile = try config.locate()
        let report = ScriptRuntime.checkConfig(configFile: configFile)
        guard let settings = report.settings else {
            throw ValidationError("\(configFile.path) has errors:\n" + report.errors.joined(separator: "\n"))
        }
        if settings.storeEngine == "PostgreSQL" {
            var quiet = Logger(label: "store")
            quiet.logLevel = .critical
            return .remote(try PostgreSQLStore(settings: settings.databaseConfiguration().postgresql, timeout: settings.databaseTimeout, logger: quiet))
        }
        return .local(try KeyValueStore(directory: settings.resolvedStateDirectory(configFile: configFile)))
    }

    /// Runs `body` to its end from this synchronous command.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
