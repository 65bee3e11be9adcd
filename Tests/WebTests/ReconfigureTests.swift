import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// A reload of conf.lua hands the running dashboard new settings (`WebServer.reconfigure`).
@Suite struct ReconfigureTests {
    @Test func newSettingsApplyToTheNextRequest() async throws {
        let harness = Harness()
        let initial = harness.configuration
        try await harness.run { server, client in
            let before = try await client.execute(uri: "/", method: .get)
            #expect(before.status == .ok)
            #expect(before.text.contains("<title>staticDHCPd</title>"))

            var named = initial
            named.systemName = "lab-b"
            server.reconfigure(named, reservations: FakeStore())
            let renamed = try await client.execute(uri: "/", method: .get)
            #expect(renamed.text.contains("<title>lab-b</title>"))

            var secured = named
            secured.dashboardSecure = true
            secured.digestUsername = "admin"
            secured.digestPassword = "secret"
            server.reconfigure(secured, reservations: FakeStore())
            let refused = try await client.execute(uri: "/", method: .get)
            #expect(refused.status == .unauthorized)
            #expect(refused.header("WWW-Authenticate")?.contains("realm=\"lab-b\"") == true)
        }
    }

    @Test func aReservationStoreCanBeTakenAway() async throws {
        try await Harness().run { server, client in
            let listed = try await client.execute(uri: "/api/reservations", method: .get)
            #expect(listed.status == .ok)
            server.reconfigure(WebConfiguration(), reservations: nil)
            let gone = try await client.execute(uri: "/api/reservations", method: .get)
            #expect(gone.status != .ok)
        }
    }

    @Test func theListenerIsTheAddressThePortAndTheIdleTimeout() {
        var configuration = WebConfiguration()
        let server = WebServer(config: configuration, source: FakeSource(), reservations: nil, scripts: nil, logger: .init(label: "t"))
        configuration.headerTitle = false
        configuration.digestPassword = "changed"
        #expect(server.sameListener(as: configuration))
        configuration.port += 1
        #expect(!server.sameListener(as: configuration))
        configuration = WebConfiguration()
        configuration.ip = "192.0.2.1"
        #expect(!server.sameListener(as: configuration))
    }
}
