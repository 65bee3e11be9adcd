import DHCPService
import DHCPWire
@testable import Databases
import Foundation
import PostgresNIO
import Scripting
import Synchronization
import Testing

/// `STORE_ENGINE = "PostgreSQL"`: the store every daemon of a site shares, against a real
/// PostgreSQL, and hooks that suspend on it.
@Suite(.serialized, .enabled(if: PostgresTestServer.unavailableReason == nil, "PostgreSQL is not installed"))
struct SharedStoreTests {
    static func settings(_ server: PostgresTestServer) -> DatabaseConfiguration.PostgreSQL {
        var settings = DatabaseConfiguration.PostgreSQL()
        settings.host = "127.0.0.1"
        settings.port = server.port
        settings.username = PostgresTestServer.username
        settings.password = PostgresTestServer.password
        settings.database = PostgresTestServer.database
        settings.maximumConnections = 8
        return settings
    }

    static func confLua(_ server: PostgresTestServer, body: String) -> String {
        """
        DHCP_SERVER_IP = "192.0.2.1"
        DATABASE_ENGINE = nil
        STORE_ENGINE = "PostgreSQL"
        POSTGRESQL_HOST = "127.0.0.1"
        POSTGRESQL_PORT = \(server.port)
        POSTGRESQL_DATABASE = "\(PostgresTestServer.database)"
        POSTGRESQL_USERNAME = "\(PostgresTestServer.username)"
        POSTGRESQL_PASSWORD = "\(PostgresTestServer.password)"
        \(body)
        """
    }

    /// One daemon's script generation on the shared store, used by one caller at a time.
    /// Its hooks run on an engine thread, as the daemon's do, so their round trips take the
    /// thread's own connections (`LoopTransport`).
    actor Daemon {
        let runtime: ScriptRuntime
        private var nextRequest: UInt64 = 0
        private let thread = EngineThread(name: "test-engine")
        nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }

        deinit { thread.stop() }

        init(_ source: String, store: PostgreSQLStore, log: any ScriptLog = SilentLog()) throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-store-\(UUID().uuidString)")
            let extensions = directory.appendingPathComponent("staticDHCPd_extensions")
            try FileManager.default.createDirectory(at: extensions, withIntermediateDirectories: true)
            let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("staticDHCPd_extensions/dynamism.lua")
            try FileManager.default.copyItem(at: shipped, to: extensions.appendingPathComponent("dynamism.lua"))
            let file = directory.appendingPathComponent("conf.lua")
            try source.write(to: file, atomically: true, encoding: .utf8)
            runtime = try ScriptRuntime(configFile: file, log: log)
            runtime.attachStore(.remote(store), timeout: 5)
            try runtime.callInit()
        }

        func unknownMAC(_ mac: MAC, method: String = "DISCOVER", requested: IPv4? = nil) throws -> HookRun<[Definition]> {
            nextRequest += 1
            var packet = DHCPPacket()
            packet.setHardwareAddress(mac)
            packet.setOption(53, bytes: [method == "DISCOVER" ? 1 : 3])
            if let requested { packet.setOption(50, bytes: requested.bytes) }
            packet.setOption(12, bytes: Array("host-\(mac.description.suffix(2))".utf8))
            let context = RequestContext(method: method, mac: mac, clientIP: requested, relayIP: nil, port: 67, requestID: nextRequest)
            return try runtime.handleUnknownMAC(&packet, context)
        }

        func resume(_ call: SuspendedCall<[Definition]>) throws -> HookRun<[Definition]> { try call.resume() }

        func abandon(_ call: SuspendedCall<[Definition]>) { call.abandon() }

        /// Runs the hook to its end, waiting for each round trip outside the actor.
        func answer(_ mac: MAC, method: String = "DISCOVER", requested: IPv4? = nil) async throws -> (definitions: [Definition], suspensions: Int) {
            var run = try unknownMAC(mac, method: method, requested: requested)
            var suspensions = 0
            while case .suspended(let call) = run {
                suspensions += 1
                await call.wait()
                run = try resume(call)
            }
            return (run.value ?? [], suspensions)
        }
    }

    /// Off the engine thread (the dashboard, init()) and on it (hooks), where the statements go
    /// through connections the thread reads and writes itself.
    @Test(arguments: [false, true])
    func operationsKeepTheirShapeAndKeyOrder(onEngineThread: Bool) async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
        try await store.prepare()
        try await run(onEngineThread: onEngineThread) {
            try await Self.operations(store)
            let open = store.statements.openConnections
            #expect(onEngineThread ? open.looped > 0 && open.shared == 0 : open.looped == 0 && open.shared > 0, "\(open)")
        }
    }

    nonisolated(nonsending) static func operations(_ store: PostgreSQLStore) async throws {
        for key in ["b/2", "a/1", "b/1", "b/10", "c"] {
            _ = try await store.perform(.put(key, "\"\(key)\""), in: nil)
        }
        #expect(try await store.perform(.get("b/1"), in: nil) == .value("\"b/1\""))
        #expect(try await store.perform(.get("missing"), in: nil) == .value(nil))
        #expect(try await store.perform(.scan(prefix: "b/", limit: nil), in: nil)
                == .rows([StoreRow(key: "b/1", value: "\"b/1\""), StoreRow(key: "b/10", value: "\"b/10\""), StoreRow(key: "b/2", value: "\"b/2\"")]))
        #expect(try await store.perform(.scan(prefix: "b/", limit: 1), in: nil) == .rows([StoreRow(key: "b/1", value: "\"b/1\"")]))
        #expect(try await store.perform(.delete("c"), in: nil) == .existed(true))
        #expect(try await store.perform(.delete("c"), in: nil) == .existed(false))
        #expect(try await store.perform(.count, in: nil) == .count(4))
        // Several keys in one round trip; absent ones are left out.
        #expect(try await store.perform(.getMany(["a/1", "nope", "b/2"]), in: nil) == .values(["a/1": "\"a/1\"", "b/2": "\"b/2\""]))
        // Compare-and-set: the token is the stored text; a stale one is refused with what is there.
        #expect(try await store.perform(.swap(key: "a/1", value: "1", expected: "\"a/1\""), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.swap(key: "a/1", value: "2", expected: "\"a/1\""), in: nil) == .swapped(false, current: "1"))
        #expect(try await store.perform(.swap(key: "new", value: "3", expected: nil), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.swap(key: "new", value: "4", expected: nil), in: nil) == .swapped(false, current: "3"))
        #expect(try await store.perform(.swap(key: "new", value: nil, expected: "4"), in: nil) == .swapped(false, current: "3"))
        #expect(try await store.perform(.swap(key: "new", value: nil, expected: "3"), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.get("new"), in: nil) == .value(nil))
        #expect(try await store.perform(.swap(key: "new", value: nil, expected: nil), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.swap(key: "a/1", value: nil, expected: nil), in: nil) == .swapped(false, current: "1"))
        // A row put along with the swap: written when the swap writes, in every form, else not.
        let along = { (value: String) in StoreRow(key: "index", value: value) }
        #expect(try await store.perform(.swap(key: "x", value: "1", expected: nil, alsoPut: along("1")), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.swap(key: "x", value: "2", expected: "1", alsoPut: along("2")), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.get("index"), in: nil) == .value("2"))
        #expect(try await store.perform(.swap(key: "x", value: "3", expected: "1", alsoPut: along("3")), in: nil) == .swapped(false, current: "2"))
        #expect(try await store.perform(.swap(key: "x", value: "3", expected: nil, alsoPut: along("3")), in: nil) == .swapped(false, current: "2"))
        #expect(try await store.perform(.swap(key: "x", value: nil, expected: "1", alsoPut: along("3")), in: nil) == .swapped(false, current: "2"))
        #expect(try await store.perform(.swap(key: "x", value: nil, expected: nil, alsoPut: along("3")), in: nil) == .swapped(false, current: "2"))
        #expect(try await store.perform(.get("index"), in: nil) == .value("2"))
        #expect(try await store.perform(.swap(key: "x", value: nil, expected: "2", alsoPut: along("4")), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.swap(key: "x", value: nil, expected: nil, alsoPut: along("5")), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.get("index"), in: nil) == .value("5"))
        await #expect { _ = try await store.perform(.swap(key: "x", value: "1", expected: nil, alsoPut: StoreRow(key: "x", value: "1")), in: nil) } throws: {
            "\($0)".contains("is the key compared")
        }
        _ = try await store.perform(.delete("index"), in: nil)
    }

    @Test(arguments: [false, true])
    func everyCharacterComesBackAsWrittenAndANULIsRefusedByName(onEngineThread: Bool) async throws {
        // The statements are prepared and run with their arguments written as constants: a
        // quote, a backslash or any other character must stay data, under either
        // standard_conforming_strings (an old site may have turned it off).
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let key = #"k'ey\"#
        let value = #"{"a": "it's", "b": "c:\\d\'", "e": "\u00e9"}"# + " \u{1F600} '); DROP TABLE staticdhcpd_store; --"
        for conforming in ["on", "off"] {
            try await onOwnThread { try server.psql("ALTER DATABASE \(PostgresTestServer.database) SET standard_conforming_strings = \(conforming)") }
            let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
            defer { store.shutdown() }
            try await store.prepare()
            try await run(onEngineThread: onEngineThread) { try await Self.characters(store, key: key, value: value, conforming: conforming) }
        }
    }

    nonisolated(nonsending) static func characters(_ store: PostgreSQLStore, key: String, value: String, conforming: String) async throws {
        _ = try await store.perform(.put(key, value), in: nil)
        #expect(try await store.perform(.get(key), in: nil) == .value(value), "standard_conforming_strings \(conforming)")
        #expect(try await store.perform(.getMany([key, "other"]), in: nil) == .values([key: value]))
        #expect(try await store.perform(.swap(key: key, value: value + "2", expected: value), in: nil) == .swapped(true, current: nil))
        #expect(try await store.perform(.swap(key: key, value: "x", expected: value), in: nil) == .swapped(false, current: value + "2"))
        #expect(try await store.perform(.scan(prefix: "k'", limit: 5), in: nil) == .rows([StoreRow(key: key, value: value + "2")]))
        // Inside a transaction the same statement runs with bound parameters.
        let transaction = try await store.begin(.snapshot)
        #expect(try await store.perform(.get(key), in: transaction) == .value(value + "2"))
        #expect(try await transaction.finish(commit: true))
        for request in [StoreRequest.put("a\u{0}b", "1"), .put("a", "1\u{0}"), .getMany(["a", "b\u{0}"]), .swap(key: "a", value: "\u{0}", expected: nil)] {
            await #expect { _ = try await store.perform(request, in: nil) } throws: { "\($0)".contains("NUL byte") }
        }
        #expect(try await store.perform(.count, in: nil) == .count(1))
    }

    /// dynamism's first scan of a pool reads every lease: a result far larger than a socket read,
    /// which the driver takes a little at a time (it holds back the next read until its rows are
    /// consumed, and traps if data comes without one).
    @Test(arguments: [false, true])
    func aScanOfThirtyThousandLeasesComesBackWhole(onEngineThread: Bool) async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
        try await store.prepare()
        try await onOwnThread {
            try server.psql("""
                INSERT INTO staticdhcpd_store (key, value) SELECT 'L/' || lpad(g::text, 5, '0'), \
                '{"address":"198.18.' || (g / 256) || '.' || (g % 256) || '","expires":1900000000}' FROM generate_series(1, 30000) g
                """)
        }
        try await run(onEngineThread: onEngineThread) {
            guard case .rows(let rows) = try await store.perform(.scan(prefix: "L/", limit: nil), in: nil) else {
                Issue.record("the scan gave no rows")
                return
            }
            #expect(rows.count == 30000)
            #expect(rows.first?.key == "L/00001" && rows.last?.key == "L/30000")
            #expect(rows.last?.value == #"{"address":"198.18.117.48","expires":1900000000}"#)
            // The connection is still good for the next statement.
            #expect(try await store.perform(.count, in: nil) == .count(30000))
        }
    }

    /// POSTGRESQL_SSLMODE = "require": the statements travel over TLS on both lanes (on the
    /// engine's thread the driver's TLS handler sits in the pipeline that thread drives).
    @Test(arguments: [false, true])
    func withTLSRequiredTheStatementsTravelEncrypted(onEngineThread: Bool) async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        try await onOwnThread { try server.enableTLS() }
        var settings = Self.settings(server)
        settings.sslMode = "require"
        let store = try PostgreSQLStore(settings: settings, timeout: 5, logger: quietLogger)
        try await store.prepare()
        try await run(onEngineThread: onEngineThread) {
            _ = try await store.perform(.put("tls", "1"), in: nil)
            #expect(try await store.perform(.get("tls"), in: nil) == .value("1"))
            let answer = store.statements.run(PostgresQuery(unsafeSQL: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), timeout: 5)
            let rows = try await withCheckedThrowingContinuation { continuation in answer.whenComplete { continuation.resume(with: $0) } }
            #expect(try rows.first?.decode(Bool.self) == true, "the statement connection uses TLS")
        }
    }

    @Test func aSchemaWrittenByANewerDaemonIsRefused() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let first = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
        try await first.prepare()
        try await onOwnThread { try server.psql("UPDATE staticdhcpd_schema SET version = 99 WHERE component = 'store'") }
        let newer = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
        let error = await #expect(throws: StoreError.self) { try await newer.prepare() }
        #expect(error?.isNewerSchema == true)
        #expect(error?.message.contains("version 99") == true, "\(String(describing: error))")
    }

    @Test func onceCreatedTheTablesNeedOnlyRowPrivileges() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        try await PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger).prepare()
        try await onOwnThread {
            try server.psql("""
                CREATE ROLE dhcp_limited LOGIN PASSWORD 'limited';
                REVOKE CREATE ON SCHEMA public FROM PUBLIC;
                GRANT SELECT, INSERT, UPDATE, DELETE ON staticdhcpd_store, staticdhcpd_schema TO dhcp_limited
                """)
        }
        var limited = Self.settings(server)
        limited.username = "dhcp_limited"
        limited.password = "limited"
        let store = try PostgreSQLStore(settings: limited, timeout: 5, logger: quietLogger)
        try await store.prepare()
        _ = try await store.perform(.put("k", "1"), in: nil)
        #expect(try await store.perform(.get("k"), in: nil) == .value("1"))
    }

    @Test func concurrentTransactionsConflictAndOneIsToldToRetry() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
        try await store.prepare()
        _ = try await store.perform(.put("k", "1"), in: nil)
        let one = try await store.begin(.serializable)
        let two = try await store.begin(.serializable)
        _ = try await store.perform(.get("k"), in: one)
        _ = try await store.perform(.get("k"), in: two)
        _ = try await store.perform(.put("k", "2"), in: one)
        #expect(try await one.finish(commit: true))
        // The second read the value the first changed and now writes it: serializable says no.
        var committed = true
        do {
            _ = try await store.perform(.put("k", "3"), in: two)
            committed = try await two.finish(commit: true)
        } catch {
            _ = try await two.finish(commit: false)
            committed = false
        }
        #expect(!committed)
        #expect(two.conflicted)
        #expect(try await store.perform(.get("k"), in: nil) == .value("2"))
    }

    /// store.update (the key's lock: updates wait for each other), and a read-modify-write in the
    /// snapshot and serializable modes, on one key that every hook changes: the worst case for
    /// those, where each conflict wastes a whole attempt, so fewer clients are in flight at once.
    @Test(arguments: [
        (#"store.update("counter", function(old) return old + 1 end)"#, 40),
        (#"store.transaction(function() local v = store.get("counter") + 1; store.put("counter", v); return v end, "snapshot")"#, 6),
        (#"store.transaction(function() local v = store.get("counter") + 1; store.put("counter", v); return v end)"#, 6),
        (#"(function() for _ = 1, 200 do local v, t = store.gets("counter"); if store.cas("counter", v + 1, t) then return v + 1 end end error("cas kept failing") end)()"#, 20),
    ])
    func hooksOfTwoDaemonsSuspendOnTheStoreAndTheirUpdatesAreAtomic(increment: String, perDaemon: Int) async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let source = Self.confLua(server, body: """
            function init()
              store.put("counter", 0) -- init() cannot suspend: this call waits for its answer
            end
            function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
              local n = \(increment)
              store.put("taken/" .. string.format("%05d", n), mac)
              -- The packet is still this request's after the hook has waited (and others ran).
              local name = packet:getOption("hostname", true)
              return Definition{ip = "192.0.2." .. (n % 200 + 10), lease_time = 600, subnet = "192.0.2.0/24", serial = 0,
                                hostname = name}
            end
            """)
        let daemons = try (0..<2).map { _ in
            try Daemon(source, store: PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger))
        }
        let results = try await withThrowingTaskGroup(of: (Int, Int, Bool).self) { group in
            for (index, daemon) in daemons.enumerated() {
                // Several clients of one daemon in flight at once: coroutines of one Lua state
                // suspended side by side.
                for client in 0..<perDaemon {
                    group.addTask {
                        let mac = MAC(UInt64(0x0200_0000_0000 + index * 1000 + client))
                        let (definitions, suspensions) = try await daemon.answer(mac)
                        return (definitions.count, suspensions, definitions.first?.hostname == "host-\(mac.description.suffix(2))")
                    }
                }
            }
            var all: [(Int, Int, Bool)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 2 * perDaemon)
        #expect(results.allSatisfy { $0.0 == 1 })
        #expect(results.allSatisfy { $0.1 >= 3 }) // (begin,) get, put (or gets, cas), (commit,) put at least
        #expect(results.allSatisfy { $0.2 }) // each hook read its own request's packet
        let check = try PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger)
        #expect(try await check.perform(.get("counter"), in: nil) == .value("\(2 * perDaemon)"))
        guard case .rows(let taken) = try await check.perform(.scan(prefix: "taken/", limit: nil), in: nil) else {
            Issue.record("scan failed")
            return
        }
        // Every increment was seen by exactly one client: no two transactions read the same value.
        #expect(taken.count == 2 * perDaemon)
        #expect(Set(taken.map(\.value)).count == 2 * perDaemon)
    }

    @Test func hooksWaitingOnTheStoreAreCountedByStoreWaiting() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let source = Self.confLua(server, body: """
            function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
              local before = store.waiting()
              store.get("x")
              return Definition{ip = "192.0.2.10", lease_time = 60, subnet = "192.0.2.0/24", serial = 0, hostname = "w" .. before}
            end
            """)
        let daemon = try Daemon(source, store: PostgreSQLStore(settings: Self.settings(server), timeout: 5, logger: quietLogger))
        func twoWaitWhileAThirdAsks() async throws -> String? {
            guard case .suspended(let first) = try await daemon.unknownMAC(MAC(0x0200_0000_0001)),
                  case .suspended(let second) = try await daemon.unknownMAC(MAC(0x0200_0000_0002)) else { return nil }
            let third = try await daemon.answer(MAC(0x0200_0000_0003))
            for call in [first, second] {
                await call.wait()
                _ = try await daemon.resume(call)
            }
            return third.definitions.first?.hostname
        }
        #expect(try await twoWaitWhileAThirdAsks() == "w2")
        // Finished hooks no longer count.
        #expect(try await daemon.answer(MAC(0x0200_0000_0004)).definitions.first?.hostname == "w0")
    }

    @Test func anAbandonedHookRollsBackTheTransactionItLeftOpen() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let source = Self.confLua(server, body: """
            function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
              store.transaction(function() store.put("k", 2); store.get("k") end)
              return nil
            end
            """)
        let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 1, logger: quietLogger)
        _ = try await store.perform(.put("k", "1"), in: nil)
        let daemon = try Daemon(source, store: store)
        // Run the hook until its put is done inside the open transaction: begin, then put.
        guard case .suspended(let call) = try await daemon.unknownMAC(MAC(0x0200_0000_0001)) else {
            Issue.record("the hook did not wait on the store")
            return
        }
        for _ in 0..<2 {
            await call.wait()
            guard case .suspended = try await daemon.resume(call) else {
                Issue.record("the hook finished early")
                return
            }
        }
        // The engine drops the request: the coroutine is closed and its transaction rolled back
        // (in the background), so the put never lands and the key's row is not left locked.
        await daemon.abandon(call)
        var value: StoreAnswer?
        for _ in 0..<10 {
            value = try? await store.perform(.swap(key: "k", value: "3", expected: "1"), in: nil)
            if value == .swapped(true, current: nil) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(value == .swapped(true, current: nil))
    }

    @Test(arguments: [false, true])
    func aStatementPastTheTimeOutFailsAndTheNextOneConnectsAgain(onEngineThread: Bool) async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 1, logger: quietLogger)
        try await run(onEngineThread: onEngineThread) { try await Self.timeOuts(store) }
    }

    nonisolated(nonsending) static func timeOuts(_ store: PostgreSQLStore) async throws {
        _ = try await store.perform(.put("k", "1"), in: nil)
        // A transaction holds the key's lock, so a single statement waiting for it cannot finish.
        let holder = try await store.begin(.readCommitted)
        _ = try await store.perform(.lock("k"), in: holder)
        for _ in 0..<PostgreSQLStore.statementConnections {
            do {
                _ = try await store.perform(.lock("k"), in: nil)
                Issue.record("a statement blocked on a lock finished")
            } catch {
                #expect(error.message.contains("took longer than DATABASE_TIMEOUT"), "\(error.message)")
            }
        }
        _ = try await holder.finish(commit: false)
        // Both statement connections were closed by their time-outs; the next statements connect again.
        for _ in 0..<PostgreSQLStore.statementConnections {
            #expect(try await store.perform(.get("k"), in: nil) == .value("1"))
        }
    }

    @Test func aStoreThatIsDownIsAnErrorTheScriptCanCatch() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let source = Self.confLua(server, body: """
            function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
              local ok, err = pcall(store.get, "anything")
              if ok then return nil end
              return Definition{ip = "192.0.2.99", lease_time = 60, subnet = "192.0.2.0/24", serial = 0, hostname = "error", extra = {reason = err}}
            end
            """)
        let store = try PostgreSQLStore(settings: Self.settings(server), timeout: 1, logger: quietLogger)
        try await store.prepare()
        let daemon = try Daemon(source, store: store)
        try await onOwnThread { try server.halt() }
        // The call comes back (bounded by DATABASE_TIMEOUT, 1 s here) with an error the script can catch.
        let (definitions, _) = try await daemon.answer(MAC(0x0200_0000_0001))
        let reason = definitions.first?.extra?["reason"].map { "\($0)" } ?? ""
        #expect(reason.contains("PostgreSQL staticdhcpd_store"), "\(reason)")
    }

    @Test func aPoolThatLosesItsStoreRenewsWhatItGrantedFromMemoryAndSaysSoOnce() async throws {
        let server = try #require(try await onOwnThread { try PostgresTestServer.start() })
        defer { server.stop() }
        let source = Self.confLua(server, body: """
            function init()
              extensions.dynamism.pools = {
                { name = "lab", subnet = "192.0.2.0/24", first = "192.0.2.10", last = "192.0.2.20", lease_time = 600 },
              }
              dynamism = require "dynamism"
            end
            function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
              return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
            end
            """)
        let log = RecordingLog()
        let daemon = try Daemon(source, store: PostgreSQLStore(settings: Self.settings(server), timeout: 1, logger: quietLogger), log: log)
        let client = MAC(0x0200_0000_0001)
        let offered = try #require(try await daemon.answer(client).definitions.first)
        let bound = try #require(try await daemon.answer(client, method: "REQUEST:SELECTING", requested: offered.ip).definitions.first)
        #expect(bound.ip == offered.ip && bound.leaseTime == 600)

        try await onOwnThread { try server.halt() }
        // The client renews: answered from memory, for what remains of its lease, not more.
        let renewed = try #require(try await daemon.answer(client, method: "REQUEST:RENEW", requested: offered.ip).definitions.first)
        #expect(renewed.ip == offered.ip)
        #expect(renewed.leaseTime > 590 && renewed.leaseTime <= 600)
        // A new client cannot be given an address: the hook fails (the engine drops the packet),
        // with the same words for every packet, so the engine logs it once a minute with a count.
        var messages: Set<String> = []
        for other in 2...4 {
            do {
                _ = try await daemon.answer(MAC(UInt64(0x0200_0000_0000 + other)))
                Issue.record("a new client was given an address while the store was down")
            } catch {
                messages.insert("\(error)")
            }
        }
        #expect(messages.count == 1, "\(messages)")
        #expect(messages.first?.contains("the store is unavailable since") == true, "\(messages)")
        #expect(log.count(level: .critical, containing: "pool lab: the store failed") == 1)

        try await onOwnThread { try server.begin() }
        var recovered: Definition?
        for _ in 0..<20 where recovered == nil {
            recovered = try? await daemon.answer(MAC(0x0200_0000_0009)).definitions.first
            if recovered == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(recovered != nil)
        #expect(log.count(level: .warning, containing: "the store answers again") == 1)
    }
}

/// Keeps every record the scripts log.
final class RecordingLog: ScriptLog, @unchecked Sendable {
    private let records = Mutex<[(LogLevel, String)]>([])
    func log(_ level: LogLevel, logger: String, _ message: String) { records.withLock { $0.append((level, message)) } }
    func count(level: LogLevel, containing text: String) -> Int {
        records.withLock { $0.filter { $0.0 == level && $0.1.contains(text) }.count }
    }
}
