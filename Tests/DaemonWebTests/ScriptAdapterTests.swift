import DaemonWeb
import DHCPWire
import Engine
import Testing
import Web

/// The web adapters that run the serving generation's scripts or read its store.
@Suite struct ScriptAdapterTests {
    private let methods = """
        function init()
            callbacks.webAddMethod("/lab/raw", function(path, q) return "text/csv", "a,b" end,
                {display_mode = callbacks.WEB_METHOD_RAW})
            callbacks.webAddMethod("/lab/page", function(path, q) return "<p>" .. (q.n and q.n[1] or "") .. "</p>" end,
                {display_mode = callbacks.WEB_METHOD_DASHBOARD})
            callbacks.webAddDashboard("lab", "pools", function() return "<p>pools</p>" end)
        end
        """

    private func serving(_ lua: String) async throws -> LockedWebSnapshot {
        let engine = jobEngine()
        let snapshot = LockedWebSnapshot()
        await publish(try await loadGeneration(lua, on: engine), on: engine, to: snapshot)
        return snapshot
    }

    @Test func beforeTheFirstGenerationNothingIsServed() async {
        let host = LuaWebHost(snapshot: LockedWebSnapshot())
        #expect(await host.registrations() == WebRegistrations())
        await #expect { try await host.callMethod(path: "/lab/raw", request: WebCallbackRequest(path: "/lab/raw")) } throws: { error in
            "\(error)" == "the server is not serving yet"
        }
        let leases = DaemonLeaseSource(snapshot: LockedWebSnapshot())
        await #expect { try await leases.leases() } throws: { "\($0)" == "the server is not serving yet" }
    }

    @Test func methodsRunOnTheEngineInTheirDisplayMode() async throws {
        let host = LuaWebHost(snapshot: try await serving(methods))
        #expect(await host.registrations().methods.map(\.path).sorted() == ["/lab/page", "/lab/raw"])
        let raw = try await host.callMethod(path: "/lab/raw", request: WebCallbackRequest(path: "/lab/raw"))
        #expect(raw == .raw(mimetype: "text/csv", body: Array("a,b".utf8), headers: [:]))
        let page = try await host.callMethod(path: "/lab/page", request: WebCallbackRequest(path: "/lab/page", queryArguments: ["n": ["7"]]))
        #expect(page == .fragment("<p>7</p>"))
        await #expect { try await host.callMethod(path: "/lab/none", request: WebCallbackRequest(path: "/lab/none")) } throws: { error in
            "\(error)" == "no web method at /lab/none"
        }
        let element = try #require(await host.registrations().dashboardElements.first)
        #expect(try await host.callDashboardElement(id: element.id, request: WebCallbackRequest(path: "/")) == "<p>pools</p>")
    }

    @Test func aScriptErrorIsTheCallsError() async throws {
        let host = LuaWebHost(snapshot: try await serving("""
            function init() callbacks.webAddMethod("/lab/fail", function() error("out of order") end) end
            """))
        await #expect { try await host.callMethod(path: "/lab/fail", request: WebCallbackRequest(path: "/lab/fail")) } throws: { error in
            "\(error)".contains("out of order")
        }
    }

    @Test func theLeasesAreTheServingGenerationsStore() async throws {
        let leases = DaemonLeaseSource(snapshot: try await serving(""))
        #expect(try await leases.leases().isEmpty)
        #expect(try await leases.release(mac: MAC(0x0200_0000_0001)).isEmpty)
        #expect(try await leases.poolUsage().isEmpty)
    }
}
