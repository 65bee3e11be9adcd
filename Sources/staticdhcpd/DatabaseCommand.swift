import ArgumentParser
import Databases
import DHCPWire
import Foundation
import Logging
import Scripting

/// `staticdhcpd db ...`: edit the reservations of the SQLite database conf.lua names.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage reservations in the SQLite database (SQLITE_FILE).",
        subcommands: [Init.self, Subnet.self, Add.self, List.self, Remove.self, Import.self, Export.self, Demo.self, Check.self]
    )

    struct Location: ParsableArguments {
        @OptionGroup var config: ConfigOption

        @Option(name: .customLong("file"), help: "The SQLite file (default: SQLITE_FILE from conf.lua).")
        var file: String?

        func open() throws -> Reservations {
            let path: String
            if let file {
                path = file
            } else {
                let configFile = try config.locate()
                let report = ScriptRuntime.checkConfig(configFile: configFile)
                guard let settings = report.settings else {
                    throw ValidationError("\(configFile.path) has errors:\n" + report.errors.joined(separator: "\n"))
                }
                guard let sqlite = settings.sqliteFile else {
                    throw ValidationError("\(configFile.path) sets no SQLITE_FILE; pass --file PATH")
                }
                path = sqlite.hasPrefix("/") ? sqlite : configFile.deletingLastPathComponent().appendingPathComponent(sqlite).path
            }
            do { return try Reservations(path: path) } catch { throw ValidationError("\(path): \(error)") }
        }
    }

    /// `db check`: connects to the engine conf.lua names and reports whether the daemon will work
    /// with it (the logic is `DatabaseCheck`, in the Databases library). Exit status 0 when it
    /// will, 1 otherwise. `--check-config` stays offline; this is the one that connects.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to the configured reservation database and report whether the daemon will work with it.")
        @OptionGroup var config: ConfigOption
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            let configFile = try config.locate()
            let report = ScriptRuntime.checkConfig(configFile: configFile)
            guard let settings = report.settings else {
                throw ValidationError("\(configFile.path) has errors:\n" + report.errors.joined(separator: "\n"))
            }
            var configuration = settings.databaseConfiguration()
            if let file = configuration.sqliteFile, !file.hasPrefix("/") {
                configuration.sqliteFile = configFile.deletingLastPathComponent().appendingPathComponent(file).path
            }
            var quiet = Logger(label: "db-check")
            quiet.logLevel = .critical
            let logger = quiet, resolved = configuration
            let check = try LeasesCommand.blocking { await DatabaseCheck.run(resolved, logger: logger) }
            print(json ? check.json : check.text)
            if !check.ok { throw ExitCode(1) }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the subnets and maps tables.")
        @OptionGroup var location: Location
        func run() throws {
            let store = try location.open()
            try store.initSchema()
            print("schema ready in \(store.path)")
        }
    }

    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the schema and a small demo reservation set (192.0.2.0/24) if the database is empty.")
        @OptionGroup var location: Location
        func run() throws {
            let store = try location.open()
            try store.initSchema()
            print(try store.seedDemo() ? "demo reservations added to \(store.path)" : "\(store.path) already holds reservations; left as it is")
        }
    }

    struct Subnet: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add, list or remove subnets.", subcommands: [AddSubnet.self, ListSubnets.self, RemoveSubnet.self])
    }

    struct AddSubnet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a subnet (its shared settings).")
        @OptionGroup var location: Location
        @Argument(help: "The subnet label, e.g. 192.0.2.0/24.") var subnet: String
        @Option var serial = 0
        @Option(name: .customLong("lease-time")) var leaseTime: UInt32 = 3600
        @Option(help: "Comma-separated routers.") var gateway: String?
        @Option(name: .customLong("subnet-mask")) var subnetMask: String?
        @Option(name: .customLong("broadcast-address")) var broadcastAddress: String?
        @Option(name: .customLong("domain-name")) var domainName: String?
        @Option(name: .customLong("dns"), help: "Comma-separated DNS servers (at most 3).") var dns: String?
        @Option(name: .customLong("ntp"), help: "Comma-separated NTP servers (at most 3).") var ntp: String?

        func run() throws {
            let store = try location.open()
            let record = SubnetRecord(
                subnet: subnet, serial: serial, leaseTime: leaseTime,
                gateways: try addresses(gateway, "--gateway"), subnetMask: try address(subnetMask, "--subnet-mask"),
                broadcastAddress: try address(broadcastAddress, "--broadcast-address"), domainName: domainName,
                domainNameServers: try addresses(dns, "--dns"), ntpServers: try addresses(ntp, "--ntp")
            )
            try store.addSubnet(record)
            print("added subnet \(subnet) serial \(serial)")
        }
    }

    struct ListSubnets: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List subnets.")
        @OptionGroup var location: Location
        func run() throws {
            for record in try location.open().listSubnets() {
                print("\(record.subnet)\tserial=\(record.serial)\tlease=\(record.leaseTime)\tgateways=\(record.gateways.map(\.description).joined(separator: ","))")
            }
        }
    }

    struct RemoveSubnet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a subnet with no reservations.")
        @OptionGroup var location: Location
        @Argument var subnet: String
        @Option var serial = 0
        func run() throws {
            try location.open().removeSubnet(subnet, serial: serial)
            print("removed subnet \(subnet) serial \(serial)")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reserve IP for MAC in a subnet.")
        @OptionGroup var location: Location
        @Argument var mac: String
        @Argument var ip: String
        @Option var subnet: String
        @Option var serial = 0
        @Option var hostname: String?
        func run() throws {
            try location.open().addMap(mac: mac, ip: ip, subnet: subnet, serial: serial, hostname: hostname)
            print("reserved \(ip) for \(mac)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reservations.")
        @OptionGroup var location: Location
        func run() throws {
            for reservation in try location.open().list() {
                print("\(reservation.mac)\t\(reservation.ip)\t\(reservation.subnet)\tserial=\(reservation.serial)\t\(reservation.hostname ?? "")")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the reservation of MAC.")
        @OptionGroup var location: Location
        @Argument var mac: String
        func run() throws {
            try location.open().remove(mac: mac)
            print("removed \(mac)")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import reservations from CSV, all or nothing.")
        @OptionGroup var location: Location
        @Argument var csv: String
        func run() throws {
            let count = try location.open().importCSV(file: csv)
            print("imported \(count) reservations from \(csv)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every reservation as CSV.")
        @OptionGroup var location: Location
        func run() throws {
            print(try location.open().exportCSV(), terminator: "")
        }
    }
}

private func address(_ text: String?, _ option: String) throws -> DHCPWire.IPv4? {
    guard let text else { return nil }
    guard let ip = DHCPWire.IPv4(text) else { throw ValidationError("\(option): '\(text)' is not an IPv4 address") }
    return ip
}

private func addresses(_ text: String?, _ option: String) throws -> [DHCPWire.IPv4] {
    guard let text else { return [] }
    do {
        return try DHCPWire.IPv4.list(text)
    } catch {
        throw ValidationError("\(option): '\(error.piece)' is not an IPv4 address")
    }
}
