// Serves the dashboard with fake data on 127.0.0.1 for the browser test and for design work.
// Usage: WebPreview [port]   (port 0 or none: an ephemeral port). Prints "PORT <n>" once listening.
import Foundation
import Logging
import Web

var configuration = WebConfiguration()
configuration.systemName = "dhcp-lab-01"
configuration.ip = "127.0.0.1"
configuration.port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 0 : 0
configuration.version = "preview"
// WEB_PREVIEW_AUTH=1 protects the dashboard with digest credentials admin / preview.
if ProcessInfo.processInfo.environment["WEB_PREVIEW_AUTH"] == "1" {
    configuration.digestUsername = "admin"
    configuration.digestPassword = "preview"
    configuration.dashboardSecure = true
}

var logger = Logger(label: "web-preview")
logger.logLevel = .warning
let server = WebServer(
    config: configuration, source: PreviewSource(), reservations: PreviewStore(), scripts: PreviewScripts(), leases: PreviewLeases(),
    logger: logger)
try await server.makeApplication(onServerRunning: { port in
    FileHandle.standardOutput.write(Data("PORT \(port)\n".utf8))
}).run()
