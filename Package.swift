// swift-tools-version:6.0
import PackageDescription

// Layers (see docs/ARCHITECTURE.md): data flows socket -> decode -> engine -> (scripts, database) -> reply.
// Each target depends only on the layers below it; the executable wires them together.
let package = Package(
    name: "staticdhcpd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "staticdhcpd", targets: ["staticdhcpd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        // Already in the graph through Hummingbird; named so Web can stop the server gracefully.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Already in the graph through HummingbirdTesting; the HTTP database engine's client.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
    ],
    targets: [
        // Lua 5.4 from Debian's liblua5.4-dev: a module map and a shim header, nothing else.
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // Linux packet-socket definitions that Glibc's Swift module does not export.
        .target(name: "CNetLinux"),
        .target(name: "DHCPWire"),
        // The values that cross a seam (hooks, statistics, web registrations, the dashboard's
        // records): one definition each, shared by Engine, Scripting, Web and the executable.
        .target(
            name: "DHCPModel",
            dependencies: ["DHCPWire", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Databases",
            dependencies: [
                "DHCPModel",
                "DHCPWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The engine thread's own PostgreSQL connections (Store/LoopTransport.swift).
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Scripting",
            dependencies: [
                "CLua", "DHCPWire", "DHCPModel", "Databases",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            // No sockets, no epoll, no scheduling policy: the engine runs on the executor it is given.
            name: "Engine",
            dependencies: [
                "DHCPWire", "DHCPModel", "Databases",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            // Not "Network": that name is Apple's Network.framework, which Hummingbird probes with
            // `#if canImport(Network)`; a module of ours by that name breaks the Web build.
            name: "DHCPNetwork",
            dependencies: [
                // Plain sockets and recvmmsg readers, not SwiftNIO: see "The engine's thread" in docs/ARCHITECTURE.md.
                "CNetLinux", "DHCPWire", "DHCPModel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            // The packet side of the daemon: the engine's thread (epoll over the sockets, the
            // engine's executor, its scheduling policy), the readers, the reply sender, and the
            // socket changeover on reload. Kept out of the executable so it is tested on its own.
            name: "DHCPService",
            dependencies: [
                "Engine", "DHCPNetwork", "CNetLinux", "Databases",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Web",
            dependencies: [
                "DHCPModel", "DHCPWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            // The engine's `DHCPHooks` over one Scripting `ScriptRuntime`: the one library that
            // sees both sides (Engine knows no Lua, Scripting does not import Engine).
            name: "ScriptedHooks",
            dependencies: [
                "Engine", "Scripting", "DaemonLogging", "DHCPModel", "DHCPWire", "Databases",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            // What one generation of conf.lua is made of, and how: conf.lua's settings mapped into
            // each module's configuration, the database and the scripts' store built (or kept) for
            // them, and explain's run through a generation built the same way. Out of the
            // executable so it is tested on its own.
            name: "Generations",
            dependencies: [
                "Scripting", "Engine", "ScriptedHooks", "Databases", "DHCPNetwork", "DHCPService", "DaemonLogging",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            // Web's seams over the running daemon (the dashboard's status and metrics, the scripts'
            // web callbacks, leases, explain, reservation editing) and the dashboard's lifecycle
            // across reloads. The adapters read the snapshot the server publishes, not the server,
            // so they are built in tests. Web itself imports none of the modules that do the work.
            name: "DaemonWeb",
            dependencies: [
                "Web", "Generations", "Scripting", "Engine", "Databases", "DHCPNetwork", "DaemonLogging", "DHCPWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            // How `staticdhcpd reload` finds the running daemon and hears back from it: the pid file
            // (where it is for a conf.lua, even a broken one) and the reload status file beside it.
            name: "DaemonControl",
            dependencies: ["Scripting", "DHCPModel", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            // The daemon's log sinks: console, rotated file, dashboard FIFO, e-mail of CRITICAL records.
            // Not "Logging": that is swift-log's module.
            name: "DaemonLogging",
            dependencies: [
                "DHCPModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "staticdhcpd",
            dependencies: [
                "DHCPWire", "DHCPModel", "Scripting", "Databases", "Engine", "ScriptedHooks", "DHCPNetwork", "DHCPService", "Web", "DaemonLogging",
                "Generations", "DaemonWeb", "DaemonControl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // Release builds link with the toolchain's lld, without exporting every Swift symbol
                // (static-stdlib-args.lnk asks for --export-dynamic; nothing here looks our symbols
                // up by name) and with packed relative relocations (glibc 2.36+). The executable
                // stays position-independent, but start-up no longer reads 3.4 MB of relocation
                // records nor 2.4 MB of symbol tables: 6.6 MB less RSS (docs/BENCHMARK.md).
                .unsafeFlags(
                    ["-use-ld=lld", "-Xlinker", "--no-export-dynamic", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                    .when(platforms: [.linux], configuration: .release)
                ),
            ]
        ),
        // Decoder fuzz target: built only by scripts/fuzz with -sanitize=fuzzer.
        .executableTarget(name: "DHCPWireFuzz", dependencies: ["DHCPWire"]),
        // Serves the dashboard with fake data (Tests/e2e/test-dashboard-browser.sh).
        .executableTarget(
            name: "WebPreview",
            dependencies: ["Web", "DHCPWire", .product(name: "Logging", package: "swift-log")]
        ),
        // Codec micro-benchmark (scripts/bench-wire).
        .executableTarget(name: "WireBench", dependencies: ["DHCPWire"]),
        // Scripting micro-benchmark (scripts/bench-lua).
        .executableTarget(name: "LuaBench", dependencies: ["Scripting", "DHCPWire", "Databases"]),
        // Database lookup benchmark (scripts/bench-db).
        .executableTarget(
            name: "DBBench",
            dependencies: ["DHCPWire", "Databases", .product(name: "Logging", package: "swift-log"),
                           .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .testTarget(name: "CLuaTests", dependencies: ["CLua"]),
        .testTarget(
            name: "DHCPModelTests",
            dependencies: ["DHCPModel", "DHCPWire", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "DHCPWireTests", dependencies: ["DHCPWire"], resources: [.copy("Captures"), .copy("Crafted")]),
        .testTarget(name: "ScriptingTests", dependencies: ["Scripting", "DHCPWire", "Databases"]),
        .testTarget(
            name: "DatabasesTests",
            dependencies: [
                // Scripting: the Lua-defined engine runs in the shared reservation-set suite too.
                "Databases", "DHCPWire", "Scripting", .product(name: "GRDB", package: "GRDB.swift"),
                // The engine's thread, on which hooks' PostgreSQL statements run in the daemon.
                "DHCPService",
                // A stub HTTP service for the HTTP engine's tests.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // A session of its own that holds a lock, for the lookup's DATABASE_TIMEOUT test.
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "DHCPWire", "Databases"]),
        .testTarget(
            name: "ScriptedHooksTests",
            dependencies: ["ScriptedHooks", "Engine", "Scripting", "DaemonLogging", "DHCPWire", "Databases"]
        ),
        .testTarget(
            name: "GenerationsTests",
            dependencies: ["Generations", "Scripting", "Engine", "Databases", "DHCPNetwork", "DHCPWire", "DaemonLogging",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "DaemonWebTests",
            dependencies: ["DaemonWeb", "Web", "Generations", "Scripting", "Engine", "Databases", "DHCPNetwork", "DHCPWire",
                           "DaemonLogging", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "DaemonControlTests", dependencies: ["DaemonControl", "Scripting", "DHCPModel", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "DaemonLoggingTests",
            dependencies: [
                "DaemonLogging",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // DHCPService: the sockets are read as the daemon reads them, on the engine's thread.
        .testTarget(name: "DHCPNetworkTests", dependencies: ["DHCPNetwork", "DHCPModel", "DHCPWire", "CNetLinux", "DHCPService"]),
        .testTarget(
            name: "DHCPServiceTests",
            dependencies: [
                "DHCPService", "Engine", "DHCPNetwork", "DHCPWire", "Databases", "CNetLinux",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "Web", "DHCPModel", "DHCPWire",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
