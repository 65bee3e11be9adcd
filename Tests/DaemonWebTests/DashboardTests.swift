import DaemonLogging
import DHCPWire
import Foundation
import Logging
import Scripting
import Testing
import Web
@testable import DaemonWeb

/// The dashboard's lifecycle across reloads: started, reconfigured in place, moved, stopped.
@Suite(.serialized) struct DashboardTests {
    /// A dashboard whose servers are counted as they are made.
    private func dashboard(counting made: Count) -> Dashboard {
        Dashboard(version: "test") { configuration, reservations in
            made.add()
            let snapshot = LockedWebSnapshot()
            return WebServer(
                config: configuration,
                source: DaemonDashboardSource(snapshot: snapshot, telemetry: Telemetry(), hub: LogHub(configuration: .init()),
                                              startedAt: Date(), host: "test", reload: { ReloadOutcome(time: Date(), succeeded: false, durationSeconds: 0) }),
                reservations: reservations, scripts: LuaWebHost(snapshot: snapshot), logger: Logger(label: "web"))
        }
    }

    private func settings(port: Int) -> Settings {
        var settings = Settings()
        settings.webEnabled = true
        settings.webIP = IPv4(127, 0, 0, 1)
        settings.webPort = port
        return settings
    }

    /// Starts `dashboard` on a port that was free (a few tries), and returns its settings.
    private func start(_ dashboard: Dashboard) async throws -> Settings {
        for _ in 0..<5 {
            let candidate = settings(port: Int.random(in: 20_000..<40_000))
            if await dashboard.apply(candidate) == nil { return candidate }
        }
        throw CancellationError()
    }

    @Test func webSettingsBecomeTheServersConfiguration() {
        var settings = settings(port: 30881)
        settings.webDigestUsername = "admin"
        settings.webDigestPassword = "secret"
        settings.webLogSeverity = "WARN"
        settings.webContentSecurityPolicy = "default-src 'none'"
        let configuration = settings.webConfiguration(version: "9.9")
        #expect(configuration.ip == "127.0.0.1" && configuration.port == 30881 && configuration.enabled)
        #expect(configuration.digestUsername == "admin" && configuration.digestPassword == "secret")
        #expect(configuration.logSeverity == .warning)
        #expect(configuration.contentSecurityPolicy == "default-src 'none'")
        #expect(configuration.version == "9.9")
        // Without WEB_CONTENT_SECURITY_POLICY, Web's strict policy stays.
        #expect(Settings().webConfiguration(version: "").contentSecurityPolicy == WebConfiguration.strictContentSecurityPolicy)
    }

    @Test func aDisabledDashboardIsNeverStarted() async {
        let made = Count()
        var disabled = settings(port: 0)
        disabled.webEnabled = false
        #expect(await dashboard(counting: made).apply(disabled) == nil)
        #expect(made.value == 0)
    }

    @Test func pageSettingsReconfigureTheServerAndANewPortStartsAnother() async throws {
        let made = Count()
        let dashboard = dashboard(counting: made)
        var settings = try await start(dashboard)
        let starts = made.value
        settings.systemName = "lab-dhcp-02"
        #expect(await dashboard.apply(settings) == nil)
        #expect(made.value == starts) // the same server, reconfigured
        let moved = try await start(dashboard)
        #expect(moved.webPort != settings.webPort)
        #expect(made.value > starts)
        var off = moved
        off.webEnabled = false
        #expect(await dashboard.apply(off) == nil)
        // Stopped: its port is free for another dashboard.
        let other = self.dashboard(counting: made)
        #expect(await other.apply(moved) == nil)
        await other.stop()
    }

    @Test func aPortInUseIsAWarningNotAFailure() async throws {
        let made = Count()
        let first = dashboard(counting: made)
        let settings = try await start(first)
        let warning = await dashboard(counting: made).apply(settings)
        #expect(warning?.contains("the web dashboard cannot serve on 127.0.0.1:\(settings.webPort)") == true)
        await first.stop()
    }
}
