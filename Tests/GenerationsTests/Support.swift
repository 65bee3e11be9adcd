import Foundation
import Scripting

/// A conf.lua that names its server and sets `lines`, in `directory` (replacing the one there)
/// or alone in a fresh one.
func writeConf(_ lines: [String], in directory: URL? = nil) throws -> URL {
    let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("generations-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let file = directory.appendingPathComponent("conf.lua")
    try (["DHCP_SERVER_IP = \"192.0.2.1\""] + lines).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    return file
}

/// conf.lua `file` loaded as the daemon loads it: its settings' paths resolved beside it.
func load(_ file: URL) throws -> (ScriptRuntime, Settings) {
    let runtime = try ScriptRuntime(configFile: file, log: ClosureScriptLog { _, _, _ in })
    return (runtime, runtime.settings.resolvingPaths(relativeTo: file))
}

/// The settings of a conf.lua that sets `lines`.
func settings(_ lines: String...) throws -> Settings {
    try load(writeConf(lines)).1
}
