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
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0"),
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
        .target(
            name: "Databases",
            dependencies: [
                "DHCPWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "Scripting",
            dependencies: [
                "CLua", "DHCPWire", "Databases",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Engine",
            dependencies: [
                "DHCPWire", "Databases",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Network",
            dependencies: [
                "CNetLinux", "DHCPWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Web",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "staticdhcpd",
            dependencies: [
                "DHCPWire", "Scripting", "Databases", "Engine", "Network", "Web",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Decoder fuzz target: built only by scripts/fuzz with -sanitize=fuzzer.
        .executableTarget(name: "DHCPWireFuzz", dependencies: ["DHCPWire"]),
        // Codec micro-benchmark (scripts/bench-wire).
        .executableTarget(name: "WireBench", dependencies: ["DHCPWire"]),
        // Scripting micro-benchmark (scripts/bench-lua).
        .executableTarget(name: "LuaBench", dependencies: ["Scripting", "DHCPWire", "Databases"]),
        .testTarget(name: "CLuaTests", dependencies: ["CLua"]),
        .testTarget(name: "DHCPWireTests", dependencies: ["DHCPWire"], resources: [.copy("Captures")]),
        .testTarget(name: "ScriptingTests", dependencies: ["Scripting", "DHCPWire", "Databases"]),
        .testTarget(name: "DatabasesTests", dependencies: ["Databases", "DHCPWire"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "DHCPWire", "Databases"]),
        .testTarget(name: "NetworkTests", dependencies: ["Network", "DHCPWire"]),
        .testTarget(
            name: "WebTests",
            dependencies: ["Web", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ]
)
