import DHCPWire
import Databases
import Foundation
import Scripting
import Testing

/// The extension modules shipped in the repository's staticDHCPd_extensions/, by module name.
func shippedExtensions() throws -> [String: String] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let directory = root.appendingPathComponent("staticDHCPd_extensions")
    var modules: [String: String] = [:]
    for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".lua") {
        modules[String(file.dropLast(4))] = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }
    return modules
}

func dhcpPacket(mac: MAC, type: UInt8, requested: IPv4? = nil, ciaddr: IPv4? = nil) -> DHCPPacket {
    var packet = DHCPPacket()
    packet.op = 1
    packet.htype = 1
    packet.hlen = 6
    packet.xid = 0x4242
    packet.setHardwareAddress(mac)
    packet.setOption(53, bytes: [type])
    if let requested { packet.setOption(50, bytes: requested.bytes) }
    if let ciaddr { packet.ciaddr = ciaddr }
    return packet
}

let dynamismConf = probeSource + """
FAKE_NOW = 1000000
function init()
  extensions.dynamism.pools = {
    { name = "lab", subnet = "198.51.100.0/24", serial = 3, first = "198.51.100.10", last = "198.51.100.14",
      lease_time = 600, hostname_prefix = "dyn", subnet_mask = "255.255.255.0", gateways = {"198.51.100.1"},
      domain_name_servers = {"198.51.100.53"} },
  }
  dynamism = require "dynamism"
  dynamism.clock = function() return FAKE_NOW end
end
function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
  return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
end
function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  dynamism.loadDHCPPacket(packet, method, mac, definition)
  return true
end

"""

/// Drives the pool through the runtime's hook entry points, as the engine does.
struct PoolDriver {
    let runtime: ScriptRuntime
    var requestID: UInt64 = 1

    mutating func ask(_ method: String, _ mac: MAC, requested: IPv4? = nil, ciaddr: IPv4? = nil,
                      relay: IPv4? = IPv4(198, 51, 100, 2)) throws -> Definition? {
        let type: UInt8 = switch method {
        case "DISCOVER": 1
        case "DECLINE": 4
        case "RELEASE": 7
        case "INFORM": 8
        default: 3
        }
        var packet = dhcpPacket(mac: mac, type: type, requested: requested, ciaddr: ciaddr)
        requestID += 1
        // client_ip as the engine computes it (docs/PROTOCOL.md §1.3).
        let clientIP: IPv4? = switch method {
        case "DISCOVER": nil
        case "INFORM", "RELEASE": ciaddr
        default: requested
        }
        let context = RequestContext(method: method, mac: mac, clientIP: clientIP, relayIP: relay, port: 67, requestID: requestID)
        defer { runtime.endRequest(requestID) }
        return try runtime.handleUnknownMAC(&packet, context).value!.first
    }
}

@Suite struct DynamismTests {
    let macA = MAC(0x0200_0000_000A), macB = MAC(0x0200_0000_000B), macC = MAC(0x0200_0000_000C)

    @Test func allocatesHonoursRequestsRenewsAndNamesHosts() throws {
        let (runtime, _, _) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        let offer = try #require(try pool.ask("DISCOVER", macA))
        // (A client's search for a free address starts at a hash of its MAC; macA's lands on .10.)
        #expect(offer.ip == IPv4(198, 51, 100, 10))
        #expect(offer.hostname == "dyn-198-51-100-10")
        #expect(offer.serial == 3 && offer.leaseTime == 600 && offer.subnet == "198.51.100.0/24")
        #expect(offer.gateways == [IPv4(198, 51, 100, 1)])
        // The same client asking again gets the same address.
        #expect(try pool.ask("DISCOVER", macA)?.ip == offer.ip)
        #expect(try pool.ask("REQUEST:SELECTING", macA, requested: offer.ip)?.ip == offer.ip)
        // A requested free address is honoured.
        #expect(try pool.ask("DISCOVER", macB, requested: IPv4(198, 51, 100, 13))?.ip == IPv4(198, 51, 100, 13))
        // ...but not one that is taken, nor one outside the pool.
        #expect(try pool.ask("DISCOVER", macC, requested: IPv4(198, 51, 100, 10))?.ip != IPv4(198, 51, 100, 10))
        // A REQUEST for an address other than the client's lease is not answered.
        #expect(try pool.ask("REQUEST:SELECTING", macA, requested: IPv4(198, 51, 100, 12)) == nil)
        // Renewal (ciaddr) extends the lease.
        #expect(try pool.ask("REQUEST:RENEW", macA, ciaddr: offer.ip)?.ip == offer.ip)
        // INFORM echoes a pool address.
        #expect(try pool.ask("INFORM", macC, ciaddr: IPv4(198, 51, 100, 14))?.ip == IPv4(198, 51, 100, 14))
        #expect(try pool.ask("INFORM", macC, ciaddr: IPv4(203, 0, 113, 5)) == nil)
        // A relay outside every pool's subnet gets nothing.
        #expect(try pool.ask("DISCOVER", MAC(0x0200_0000_00FF), relay: IPv4(203, 0, 113, 1)) == nil)
    }

    @Test func releaseFreesAndDeclineQuarantines() throws {
        let (runtime, _, _) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        let a = try #require(try pool.ask("REQUEST:SELECTING", macA, requested: IPv4(198, 51, 100, 11)))
        #expect(a.ip == IPv4(198, 51, 100, 11))
        // RELEASE for the wrong address is refused; for the right one it frees the address.
        #expect(try pool.ask("RELEASE", macA, ciaddr: IPv4(198, 51, 100, 12)) == nil)
        #expect(try pool.ask("RELEASE", macA, ciaddr: a.ip)?.ip == a.ip)
        #expect(try pool.ask("DISCOVER", macB, requested: a.ip)?.ip == a.ip)
        // B declines it: nobody gets it while quarantined, even when asking for it.
        _ = try pool.ask("REQUEST:SELECTING", macB, requested: a.ip)
        #expect(try pool.ask("DECLINE", macB, requested: a.ip)?.ip == a.ip)
        #expect(try pool.ask("DISCOVER", macC, requested: a.ip)?.ip != a.ip)
        #expect(try pool.ask("DISCOVER", macB)?.ip != a.ip)
        let csv = try evaluate(runtime, "return dynamism.csv()")
        #expect(csv.contains("lab,02:00:00:00:00:0b,198.51.100.11,quarantined"))
        // After the quarantine (lease_time) it is usable again.
        _ = try evaluate(runtime, "FAKE_NOW = FAKE_NOW + 601; return 1")
        #expect(try pool.ask("DISCOVER", MAC(0x0200_0000_00DD), requested: a.ip)?.ip == a.ip)
    }

    @Test func expiredLeasesAreReclaimedOneLeasePeriodLaterAndPoolsRunOut() throws {
        let (runtime, log, _) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        var macs: [MAC] = []
        for index in 0..<5 {
            let mac = MAC(0x0200_0000_0100 + UInt64(index))
            macs.append(mac)
            let offer = try #require(try pool.ask("DISCOVER", mac))
            #expect(try pool.ask("REQUEST:SELECTING", mac, requested: offer.ip)?.ip == offer.ip)
        }
        #expect(try pool.ask("DISCOVER", macC) == nil)
        #expect(log.contains("exhausted"))
        // Expired but within the reclaim window: still held.
        _ = try evaluate(runtime, "FAKE_NOW = FAKE_NOW + 601; return 1")
        #expect(try pool.ask("DISCOVER", macC) == nil)
        // The old client can still come back to its address.
        #expect(try pool.ask("REQUEST:SELECTING", macs[0], requested: IPv4(198, 51, 100, 10))?.ip == IPv4(198, 51, 100, 10))
        _ = try evaluate(runtime, "FAKE_NOW = FAKE_NOW + 600; return 1")
        let reused = try #require(try pool.ask("DISCOVER", macC))
        #expect(reused.ip != IPv4(198, 51, 100, 10))
        #expect(try evaluate(runtime, "return dynamism.pools.lab:sweep()") == "3")
        // Unanswered offers free their address after offer_time.
        let offered = try #require(try pool.ask("DISCOVER", MAC(0x0200_0000_0EEE)))
        _ = try evaluate(runtime, "FAKE_NOW = FAKE_NOW + 61; return 1")
        #expect(try pool.ask("DISCOVER", MAC(0x0200_0000_0FFF), requested: offered.ip)?.ip == offered.ip)
    }

    @Test func leasesSurviveANewRuntimeOnTheSameStateDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dyn-\(UUID().uuidString)").path
        var assigned: [MAC: IPv4] = [:]
        do {
            let (runtime, _, _) = try makeStoredRuntime(dynamismConf, directory: directory, extensions: try shippedExtensions())
            var pool = PoolDriver(runtime: runtime)
            for mac in [macA, macB, macC] {
                let offer = try #require(try pool.ask("DISCOVER", mac))
                _ = try pool.ask("REQUEST:SELECTING", mac, requested: offer.ip)
                assigned[mac] = offer.ip
            }
        }
        let (runtime, _, _) = try makeStoredRuntime(dynamismConf, directory: directory, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        for mac in [macC, macA, macB] {
            #expect(try pool.ask("DISCOVER", mac)?.ip == assigned[mac])
            #expect(try pool.ask("REQUEST:RENEW", mac, ciaddr: assigned[mac])?.ip == assigned[mac])
        }
        #expect(Set(assigned.values).count == 3)
    }

    @Test func twoGenerationsSharingTheStoreSeeEachOthersLeases() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dyn-\(UUID().uuidString)").path
        let (old, _, _) = try makeStoredRuntime(dynamismConf, directory: directory, extensions: try shippedExtensions())
        let (new, _, _) = try makeStoredRuntime(dynamismConf, directory: directory, extensions: try shippedExtensions())
        var oldPool = PoolDriver(runtime: old)
        var newPool = PoolDriver(runtime: new)
        // The new generation has initialised; the old one still serves a client.
        let late = try #require(try oldPool.ask("REQUEST:SELECTING", macA, requested: IPv4(198, 51, 100, 12)))
        // The new generation does not hand that address to someone else.
        #expect(try newPool.ask("DISCOVER", macB, requested: late.ip)?.ip != late.ip)
        #expect(try newPool.ask("DISCOVER", macA)?.ip == late.ip)
    }

    @Test func webElementsAndRenewalTimes() throws {
        let (runtime, _, _) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        let offer = try #require(try pool.ask("DISCOVER", macA))
        _ = try pool.ask("REQUEST:SELECTING", macA, requested: offer.ip)
        let registrations = runtime.webRegistrations()
        let dashboard = try #require(registrations.dashboardElements.first { $0.module == "dynamism" })
        #expect(dashboard.name == "leases")
        guard case .fragment(let html) = try runtime.callWebCallback(id: dashboard.id, request: WebCallbackRequest(path: "/")) else {
            Issue.record("the dashboard element returned no fragment"); return
        }
        #expect(html.contains("<td>02:00:00:00:00:0a</td><td>198.51.100.10</td><td>bound</td>"))
        #expect(html.contains("5 addresses, 1 leased, 0 quarantined"))
        let method = try #require(registrations.methods.first { $0.path.hasSuffix("dynamism/leases.csv") })
        guard case .content(let mime, let data, _) = try runtime.callWebCallback(id: method.id, request: WebCallbackRequest(path: method.path)) else {
            Issue.record("the CSV method returned no content"); return
        }
        #expect(mime.hasPrefix("text/csv"))
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        #expect(lines.first == "pool,mac,ip,state,expires,hostname")
        #expect(lines.count == 2 && lines[1].hasPrefix("lab,02:00:00:00:00:0a,198.51.100.10,bound,"))
        // discourage_renewals: T1 = T2 = 97.5 % of the lease time.
        var response = dhcpPacket(mac: macA, type: 5)
        let context = RequestContext(method: "REQUEST:SELECTING", mac: macA, clientIP: offer.ip, relayIP: nil, port: 67, requestID: 99)
        _ = try runtime.loadDHCPPacket(&response, context, definition: offer, source: dhcpPacket(mac: macA, type: 3))
        #expect(response.option(58) == [0, 0, 2, 73] && response.option(59) == [0, 0, 2, 73]) // 585
    }

    @Test func badPoolSettingsStopInitWithAClearError() throws {
        let cases: [(String, String)] = [
            (#"{ name = "x" }"#, "'subnet' must be a string"),
            (#"{ name = "x", subnet = "198.51.100.0/24", first = "198.51.100.10" }"#, "give both 'first' and 'last'"),
            (#"{ name = "x", subnet = "198.51.100.0/24", ips = {"203.0.113.5"} }"#, "outside 198.51.100.0/24"),
            (#"{ name = "x", subnet = "198.51.100.0/24", ips = {"nope"} }"#, "'nope' is not an IPv4 address"),
            (#"{ name = "x y", subnet = "198.51.100.0/24" }"#, "may hold only letters"),
            (#"{ name = "x", subnet = "198.51.100.0/24", lease_time = 0 }"#, "'lease_time' must be a positive integer"),
        ]
        for (pool, expected) in cases {
            let conf = "function init() extensions.dynamism.pools = { \(pool) }; require 'dynamism' end\n"
            #expect(throws: ScriptError.self, "\(pool)") { _ = try makeStoredRuntime(conf, extensions: try shippedExtensions()) }
            do { _ = try makeStoredRuntime(conf, extensions: try shippedExtensions()) } catch {
                #expect("\(error)".contains(expected), "\(pool): \(error)")
            }
        }
    }
}

/// Several daemons sharing one store (STORE_ENGINE = "PostgreSQL"): nothing a daemon keeps in Lua is
/// the truth, and store.transaction may run its function again after a conflict. Here two runtimes
/// share one state directory (two script states, one store), and a wrapper around store.transaction
/// plays the conflicts a remote store would raise: the function runs, is rolled back, and runs again.
@Suite struct DynamismSharedStoreTests {
    let macA = MAC(0x0200_0000_000A), macB = MAC(0x0200_0000_000B), macC = MAC(0x0200_0000_000C)

    /// dynamismConf with a pool of 20 addresses (198.51.100.10-29).
    var widePoolConf: String {
        dynamismConf.replacingOccurrences(of: #"last = "198.51.100.14""#, with: #"last = "198.51.100.29""#)
    }

    /// Runs `code` (Lua) on every runtime, e.g. to move FAKE_NOW on all daemons at once.
    func everywhere(_ runtimes: [ScriptRuntime], _ code: String) throws {
        for runtime in runtimes { _ = try evaluate(runtime, code) }
    }

    @Test func twoDaemonsAgreeOnEveryLease() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dyn-\(UUID().uuidString)").path
        let (one, _, _) = try makeStoredRuntime(widePoolConf, directory: directory, extensions: try shippedExtensions())
        let (two, _, _) = try makeStoredRuntime(widePoolConf, directory: directory, extensions: try shippedExtensions())
        var daemons = [PoolDriver(runtime: one), PoolDriver(runtime: two)]
        // Clients DISCOVER on one daemon and REQUEST on the other, alternately.
        var bound: [MAC: IPv4] = [:]
        for index in 0..<16 {
            let mac = MAC(0x0200_0000_0200 + UInt64(index))
            let offer = try #require(try daemons[index % 2].ask("DISCOVER", mac))
            let ack = try #require(try daemons[(index + 1) % 2].ask("REQUEST:SELECTING", mac, requested: offer.ip))
            #expect(ack.ip == offer.ip)
            bound[mac] = ack.ip
        }
        // No address is bound to two MACs.
        #expect(Set(bound.values).count == 16)
        // Each MAC keeps its address whichever daemon answers its DISCOVER, RENEW or REBIND.
        for (mac, ip) in bound {
            for daemon in 0..<2 {
                #expect(try daemons[daemon].ask("DISCOVER", mac)?.ip == ip)
                #expect(try daemons[daemon].ask("REQUEST:RENEW", mac, ciaddr: ip)?.ip == ip)
                #expect(try daemons[daemon].ask("REQUEST:REBIND", mac, ciaddr: ip)?.ip == ip)
            }
        }
        let first = MAC(0x0200_0000_0200), second = MAC(0x0200_0000_0201)
        let firstIP = try #require(bound[first]), secondIP = try #require(bound[second])
        // A REQUEST for an address another daemon bound to another MAC: nil (NAK or silence).
        for daemon in 0..<2 {
            #expect(try daemons[daemon].ask("REQUEST:SELECTING", macA, requested: firstIP) == nil)
            #expect(try daemons[daemon].ask("REQUEST:INIT-REBOOT", macA, requested: secondIP) == nil)
            #expect(try daemons[daemon].ask("DISCOVER", macB, requested: firstIP)?.ip != firstIP)
        }
        // A RELEASE seen by one daemon frees the address for the other.
        #expect(try daemons[0].ask("RELEASE", first, ciaddr: firstIP)?.ip == firstIP)
        #expect(try daemons[1].ask("REQUEST:SELECTING", macC, requested: firstIP)?.ip == firstIP)
        // A DECLINE seen by one daemon quarantines the address for the other.
        #expect(try daemons[1].ask("DECLINE", second, requested: secondIP)?.ip == secondIP)
        #expect(try daemons[0].ask("REQUEST:SELECTING", MAC(0x0200_0000_0DDD), requested: secondIP) == nil)
        // Both daemons' web views and counts read the store.
        for runtime in [one, two] {
            let csv = try evaluate(runtime, "return dynamism.csv()")
            #expect(csv.contains("lab,\(macC),\(firstIP),bound,"))
            #expect(csv.contains("lab,\(second),\(secondIP),quarantined,"))
            let stats = try evaluate(runtime, """
                local s = dynamism.stats()[1]
                return string.format("%s size=%d leased=%d expired=%d offered=%d quarantined=%d free=%d",
                  s.name, s.size, s.leased, s.expired, s.offered, s.quarantined, s.free)
                """)
            // 16 bound, one released and taken again (by C), one declined; macB's DISCOVER is an offer.
            #expect(stats == "lab size=20 leased=15 expired=0 offered=1 quarantined=1 free=3", "\(stats)")
        }
        // An administrator's release on one daemon frees the lease for both.
        #expect(try evaluate(two, "return tostring(dynamism.pools.lab:release('\(macC)'))") == "\(firstIP)")
        #expect(try evaluate(one, "return tostring(dynamism.pools.lab:release('\(macC)'))") == "nil")
        #expect(try daemons[0].ask("REQUEST:SELECTING", MAC(0x0200_0000_0EEE), requested: firstIP)?.ip == firstIP)
        // An expiry seen by one daemon frees the address for the other: past lease_time and
        // reclaim_after, one daemon sweeps and the other hands the addresses out again.
        try everywhere([one, two], "FAKE_NOW = FAKE_NOW + 1201; return 1")
        #expect(try evaluate(one, "return dynamism.pools.lab:sweep()") == "17")
        #expect(try evaluate(two, "return dynamism.pools.lab:sweep()") == "0")
        #expect(try daemons[1].ask("REQUEST:SELECTING", macB, requested: secondIP)?.ip == secondIP)
        #expect(try daemons[1].ask("DISCOVER", MAC(0x0200_0000_0FFF), requested: bound[MAC(0x0200_0000_0205)])?.ip == bound[MAC(0x0200_0000_0205)])
    }

    @Test func storeCallsPerPacketAreTheDocumentedRoundTrips() throws {
        // docs/SCRIPTING.md, "Several daemons": each store call is a round trip with a shared store.
        let conf = dynamismConf + """
            CALLS = {}
            function countCalls()
              for _, name in ipairs({"get", "gets", "getMany", "cas", "put", "delete", "scan"}) do
                local real = store[name]
                store[name] = function(...) CALLS[#CALLS + 1] = name; return real(...) end
              end
            end
            function calls() local text = table.concat(CALLS, ","); CALLS = {}; return text end
            """
        let (runtime, _, _) = try makeStoredRuntime(conf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        _ = try pool.ask("DISCOVER", MAC(0x0200_0000_0F0F)) // the first allocation scans the pool once
        _ = try evaluate(runtime, "countCalls(); return 1")
        let offer = try #require(try pool.ask("DISCOVER", macA)?.ip)
        // The L/<mac> index travels with the claim's compare-and-set, not in a put of its own.
        #expect(try evaluate(runtime, "return calls()") == "getMany,cas")
        #expect(try evaluate(runtime, "local ip = store.get(dynamism.pools.lab:_leaseKey('\(macA)')).ip; calls(); return ip") == offer.description)
        #expect(try pool.ask("REQUEST:SELECTING", macA, requested: offer)?.ip == offer)
        #expect(try evaluate(runtime, "return calls()") == "cas")
        #expect(try pool.ask("REQUEST:RENEW", macA, ciaddr: offer)?.ip == offer)
        #expect(try evaluate(runtime, "return calls()") == "cas")
        // Another daemon's view of the same lease (nothing remembered): one read, then the write.
        _ = try evaluate(runtime, "dynamism.pools.lab.known = {}; return 1")
        #expect(try pool.ask("REQUEST:RENEW", macA, ciaddr: offer)?.ip == offer)
        #expect(try evaluate(runtime, "return calls()") == "getMany,cas")
    }

    @Test func aStoreThatIsBehindShedsNewDiscoversButServesRequests() throws {
        let (runtime, _, _) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        let offer = try #require(try pool.ask("DISCOVER", macA)?.ip)
        #expect(try evaluate(runtime, "return store.waiting()") == "0") // nothing waits on SQLite
        // As if 128 hooks already waited on the shared store.
        _ = try evaluate(runtime, "REAL_WAITING = store.waiting; store.waiting = function() return dynamism.SHED_WAITING end; return 1")
        // Dropped with an error (nil would mean "unknown client", which the engine may NAK or blocklist).
        do {
            _ = try pool.ask("DISCOVER", macB)
            Issue.record("a DISCOVER was answered while the store was behind")
        } catch {
            #expect("\(error)".contains("the store is behind"), "\(error)")
        }
        #expect(try pool.ask("REQUEST:SELECTING", macA, requested: offer)?.ip == offer)
        #expect(try evaluate(runtime, "return dynamism.pools.lab.shed .. ' ' .. dynamism.pools.lab.shedTotal") == "1 1")
        // Past four times as many, requests are dropped too.
        _ = try evaluate(runtime, "store.waiting = function() return 4 * dynamism.SHED_WAITING end; return 1")
        #expect(throws: (any Error).self) { try pool.ask("REQUEST:RENEW", macA, ciaddr: offer) }
        _ = try evaluate(runtime, "store.waiting = REAL_WAITING; return 1")
        #expect(try pool.ask("DISCOVER", macB) != nil)
    }

    @Test func aDecisionMadeAgainDecidesAsIfMadeOnce() throws {
        // Every other store.cas is refused as if another daemon had changed the record (though
        // nothing changed), so every decision is made again: the answers and the store end up as
        // without.
        let conf = dynamismConf + """
            function forceReruns()
              local real, refuse = store.cas, true
              REAL_CAS = real
              store.cas = function(key, value, token, ...)
                refuse = not refuse
                if not refuse then
                  RERUNS = (RERUNS or 0) + 1
                  local current, currentToken = store.gets(key)
                  return false, current, currentToken
                end
                return real(key, value, token, ...)
              end
            end

            """
        func play(_ runtime: ScriptRuntime) throws -> [String] {
            var pool = PoolDriver(runtime: runtime)
            var answers: [String] = []
            let x = IPv4(198, 51, 100, 13)
            let steps: [(String, MAC, IPv4?, IPv4?)] = [
                ("DISCOVER", macA, nil, nil), ("REQUEST:SELECTING", macA, IPv4(198, 51, 100, 10), nil),
                ("DISCOVER", macB, nil, nil), ("DISCOVER", macC, x, nil), ("REQUEST:SELECTING", macB, IPv4(198, 51, 100, 11), nil),
                ("RELEASE", macA, nil, IPv4(198, 51, 100, 10)), ("DISCOVER", MAC(0x0200_0000_0D00), nil, nil),
                ("DECLINE", macC, x, nil), ("DISCOVER", MAC(0x0200_0000_0E00), nil, nil),
                ("DISCOVER", MAC(0x0200_0000_0F00), x, nil), ("REQUEST:RENEW", macB, nil, IPv4(198, 51, 100, 11)),
                ("REQUEST:SELECTING", macA, x, nil), ("DISCOVER", macA, nil, nil),
            ]
            for (method, mac, requested, ciaddr) in steps {
                let answer = try pool.ask(method, mac, requested: requested, ciaddr: ciaddr)
                answers.append("\(method) \(mac) -> \(answer?.ip.description ?? "nil")")
            }
            _ = try evaluate(runtime, "FAKE_NOW = FAKE_NOW + 61; return 1")
            let late = try pool.ask("DISCOVER", MAC(0x0200_0000_0A00))
            answers.append("after the offers: \(late?.ip.description ?? "nil")")
            // The sweep makes no decision: a refused change waits for the next sweep.
            _ = try evaluate(runtime, "if REAL_CAS then store.cas = REAL_CAS end; return 1")
            answers.append("sweep \(try evaluate(runtime, "return dynamism.pools.lab:sweep()"))")
            answers.append(try evaluate(runtime, "return dynamism.csv()"))
            answers.append(try evaluate(runtime, """
                local out = {}
                for _, e in ipairs(store.scan("dynamism/")) do
                  local v = type(e.value) == "table" and e.value or { mac = e.value }
                  out[#out + 1] = e.key .. "=" .. tostring(v.mac or v.ip) .. "," .. tostring(v.state) .. "," .. tostring(v.expires or v.quarantined)
                end
                return table.concat(out, ";")
                """))
            return answers
        }
        let (plain, _, _) = try makeStoredRuntime(conf, extensions: try shippedExtensions())
        let (rerun, _, _) = try makeStoredRuntime(conf, extensions: try shippedExtensions())
        _ = try evaluate(rerun, "forceReruns(); return 1")
        let once = try play(plain)
        let twice = try play(rerun)
        #expect(once == twice)
        #expect(try evaluate(rerun, "return RERUNS") != "nil")
        #expect(once[0] == "DISCOVER \(macA) -> 198.51.100.10")
    }

    /// One runtime with two copies of the module (two daemons' Lua state, one store), and a wrapper
    /// that lets the other daemon act between the rolled-back first attempt and the second.
    let interleavedConf = probeSource + """
        FAKE_NOW = 1000000
        function init()
          extensions.dynamism.pools = {
            { name = "lab", subnet = "198.51.100.0/24", first = "198.51.100.10", last = "198.51.100.14", lease_time = 600 },
          }
          dynamism = require "dynamism"
          dynamism.clock = function() return FAKE_NOW end
          -- the second daemon: a fresh copy of the module (its own hints), without web elements
          package.loaded.dynamism = nil
          extensions.dynamism.DISPLAY_IN_DASHBOARD = false
          extensions.dynamism.CSV_PATH = false
          other = require "dynamism"
          other.clock = function() return FAKE_NOW end
          assert(other ~= dynamism)
        end
        -- Before the next store.cas (a decision's write, after its reads), `between(ip)` runs: the
        -- other daemon acts on the address that write is about; then the write goes to the store.
        function interleaveOnce(between)
          local real = store.cas
          store.cas = function(key, value, token, ...)
            store.cas = real
            local ip = key:match("/A/(.+)$"):gsub("%d+", function(d) return tostring(tonumber(d)) end)
            between(ip)
            return real(key, value, token, ...)
          end
        end

        """

    @Test func theSameBroadcastDiscoverOnTwoDaemonsEndsWithOneOffer() throws {
        let (runtime, _, _) = try makeStoredRuntime(interleavedConf, extensions: try shippedExtensions())
        // Daemon 2's decision chooses an address for the MAC; before it writes, daemon 1 gives that
        // address to another client and then answers the MAC's DISCOVER (with another address).
        // Daemon 2's write is refused; its decision made again finds daemon 1's offer through
        // L/<mac> and repeats it: one offer, one address held.
        let result = try evaluate(runtime, """
            local one, two = dynamism.pools.lab, other.pools.lab
            local mac = "02:00:00:00:00:5a"
            local first, squatter, mine
            interleaveOnce(function(chosen)
              first = chosen
              squatter = one:handle("REQUEST:SELECTING", nil, "02:00:00:00:00:77", chosen).ip
              mine = one:handle("DISCOVER", nil, mac, nil).ip
            end)
            local theirs = two:handle("DISCOVER", nil, mac, nil).ip
            local held = 0
            for _, e in ipairs(store.scan("dynamism/lab/A/")) do if e.value.mac == mac then held = held + 1 end end
            return table.concat({ tostring(squatter == first), tostring(mine ~= first), tostring(mine == theirs), held }, " ")
            """)
        #expect(result == "true true true 1")
    }

    @Test func twoDaemonsAnsweringOneMACAtOnceOfferTheSameAddressAndKeepItsLease() throws {
        let (runtime, _, _) = try makeStoredRuntime(interleavedConf, extensions: try shippedExtensions())
        // Both daemons see the MAC's DISCOVER with no lease and pick the same first candidate (the
        // search starts where the MAC's hash says, on every daemon). Before daemon 2's claim lands,
        // daemon 1 offers that address and the client's REQUEST binds it there. Daemon 2's claim is
        // refused by a record naming this very MAC: it offers the same address, and leaves the
        // bound lease as daemon 1 wrote it (writing its offer over it would cut the lease short).
        let result = try evaluate(runtime, """
            local one, two = dynamism.pools.lab, other.pools.lab
            local mac = "02:00:00:00:00:5c"
            local chosen, mine
            interleaveOnce(function(ip)
              chosen = ip
              mine = one:handle("DISCOVER", nil, mac, nil).ip
              one:handle("REQUEST:SELECTING", nil, mac, mine)
            end)
            local theirs = two:handle("DISCOVER", nil, mac, nil).ip
            local held, state = 0, nil
            for _, e in ipairs(store.scan("dynamism/lab/A/")) do
              if e.value.mac == mac then held, state = held + 1, e.value.state end
            end
            return table.concat({ tostring(mine == chosen), tostring(theirs == mine), held, state }, " ")
            """)
        #expect(result == "true true 1 bound")
    }

    @Test func aCandidateTakenMeanwhileIsSkippedWithoutStartingOver() throws {
        let (runtime, _, _) = try makeStoredRuntime(interleavedConf, extensions: try shippedExtensions())
        // Daemon 2 picks a free address for a new client; before its claim lands, daemon 1 binds
        // that address to someone else. Daemon 2's claim is refused and it takes the next free
        // address in the same attempt: one read of L/<mac> by each daemon, where starting the
        // decision over would read it a second time.
        let result = try evaluate(runtime, """
            local one, two = dynamism.pools.lab, other.pools.lab
            local taken
            interleaveOnce(function(ip) taken = one:handle("REQUEST:SELECTING", nil, "02:00:00:00:00:77", ip).ip end)
            local reads, realGetMany = 0, store.getMany
            store.getMany = function(...) reads = reads + 1; return realGetMany(...) end
            local offer = two:handle("DISCOVER", nil, "02:00:00:00:00:5b", nil).ip
            store.getMany = realGetMany
            local holder = store.get("dynamism/lab/A/" .. string.format("%03d.%03d.%03d.%03d", table.unpack(IPv4.toList(offer))))
            return table.concat({ tostring(offer ~= taken), tostring(reads), holder.mac, holder.state }, " ")
            """)
        #expect(result == "true 2 02:00:00:00:00:5b offered")
    }

    @Test func aRequestForAnAddressAnotherDaemonJustBoundGetsNil() throws {
        let (runtime, _, _) = try makeStoredRuntime(interleavedConf, extensions: try shippedExtensions())
        // Daemon 2's decision finds .13 free; daemon 1 binds it to another MAC before daemon 2
        // writes; the write is refused, and the decision made again answers nil (the engine NAKs
        // or stays silent).
        let result = try evaluate(runtime, """
            local one, two = dynamism.pools.lab, other.pools.lab
            local bound
            interleaveOnce(function() bound = one:handle("REQUEST:SELECTING", nil, "02:00:00:00:00:60", "198.51.100.13") end)
            local refused = two:handle("REQUEST:SELECTING", nil, "02:00:00:00:00:61", "198.51.100.13")
            -- and the client that lost still gets another address from a DISCOVER
            local offer = two:handle("DISCOVER", nil, "02:00:00:00:00:61", nil)
            return bound.ip .. " " .. tostring(refused) .. " " .. tostring(offer.ip ~= "198.51.100.13")
            """)
        #expect(result == "198.51.100.13 nil true")
    }

    @Test func leasesOfTheOldLayoutAreKeptAndRewritten() throws {
        // The layout before several daemons: A/<ip> -> {mac=} with the state in L/<mac>, and the
        // change counter V. Such leases still count; the sweep rewrites them and deletes V.
        let (runtime, _, _) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        _ = try evaluate(runtime, """
            store.put("dynamism/lab/V", 7)
            store.put("dynamism/lab/L/02:00:00:00:00:0a", { ip = "198.51.100.12", state = "bound", expires = FAKE_NOW + 300 })
            store.put("dynamism/lab/A/198.051.100.012", { mac = "02:00:00:00:00:0a" })
            store.put("dynamism/lab/L/02:00:00:00:00:0b", { ip = "198.51.100.13", state = "bound", expires = FAKE_NOW - 5000 })
            store.put("dynamism/lab/A/198.051.100.013", { mac = "02:00:00:00:00:0b" })
            return 1
            """)
        var pool = PoolDriver(runtime: runtime)
        #expect(try pool.ask("DISCOVER", macA)?.ip == IPv4(198, 51, 100, 12))
        #expect(try pool.ask("REQUEST:SELECTING", macC, requested: IPv4(198, 51, 100, 12)) == nil)
        // B's lease ended long ago: its address is free.
        #expect(try pool.ask("REQUEST:SELECTING", macC, requested: IPv4(198, 51, 100, 13))?.ip == IPv4(198, 51, 100, 13))
        #expect(try evaluate(runtime, "return dynamism.pools.lab:sweep()") == "0")
        let after = try evaluate(runtime, """
            local a = store.get("dynamism/lab/A/198.051.100.012")
            return tostring(store.get("dynamism/lab/V")) .. " " .. a.mac .. " " .. a.state .. " " .. (a.expires - FAKE_NOW)
              .. " " .. tostring(store.get("dynamism/lab/L/02:00:00:00:00:0b"))
            """)
        #expect(after == "nil 02:00:00:00:00:0a bound 300 nil")
        #expect(try pool.ask("REQUEST:RENEW", macA, ciaddr: IPv4(198, 51, 100, 12))?.ip == IPv4(198, 51, 100, 12))
    }
}

@Suite struct DynamismRateTests {
    /// Allocations per second through the Lua pool and the store (DISCOVER + REQUEST per client),
    /// without the network; printed for the report.
    @Test func allocationRate() throws {
        let conf = probeSource + """
            function init()
              extensions.dynamism.pools = { { name = "big", subnet = "198.18.0.0/15", first = "198.18.0.10", last = "198.18.15.255", lease_time = 3600 } }
              dynamism = require "dynamism"
            end
            function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
              return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
            end

            """
        let (runtime, _, store) = try makeStoredRuntime(conf, extensions: try shippedExtensions())
        var pool = PoolDriver(runtime: runtime)
        let clients = 2000
        let started = ContinuousClock.now
        var addresses = Set<IPv4>()
        for index in 0..<clients {
            let mac = MAC(0x0200_0002_0000 + UInt64(index))
            let offer = try #require(try pool.ask("DISCOVER", mac, relay: nil))
            let ack = try #require(try pool.ask("REQUEST:SELECTING", mac, requested: offer.ip, relay: nil))
            #expect(ack.ip == offer.ip)
            addresses.insert(ack.ip)
        }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        #expect(addresses.count == clients)
        #expect(try store.scan(prefix: "dynamism/big/L/").count == clients)
        let rate = Double(clients) / elapsed
        print("dynamism: \(clients) allocations (DISCOVER+REQUEST) in \(String(format: "%.2f", elapsed)) s = \(Int(rate)) allocations/s")
        #expect(rate > 50)
    }
}
