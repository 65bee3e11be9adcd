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
        // client_ip as the engine computes it (server.md §2.3).
        let clientIP: IPv4? = switch method {
        case "DISCOVER": nil
        case "INFORM", "RELEASE": ciaddr
        default: requested
        }
        let context = HookContext(method: method, mac: mac, clientIP: clientIP, relayIP: relay, port: 67, requestID: requestID)
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
        let dashboard = try #require(registrations.dashboard.first { $0.module == "dynamism" })
        #expect(dashboard.name == "leases")
        guard case .fragment(let html) = try runtime.callWebCallback(id: dashboard.id, request: WebCallRequest(path: "/")) else {
            Issue.record("the dashboard element returned no fragment"); return
        }
        #expect(html.contains("<td>02:00:00:00:00:0a</td><td>198.51.100.10</td><td>bound</td>"))
        #expect(html.contains("5 addresses, 1 leased, 0 quarantined"))
        let method = try #require(registrations.methods.first { $0.path.hasSuffix("dynamism/leases.csv") })
        guard case .content(let mime, let data, _) = try runtime.callWebCallback(id: method.id, request: WebCallRequest(path: method.path)) else {
            Issue.record("the CSV method returned no content"); return
        }
        #expect(mime.hasPrefix("text/csv"))
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        #expect(lines.first == "pool,mac,ip,state,expires,hostname")
        #expect(lines.count == 2 && lines[1].hasPrefix("lab,02:00:00:00:00:0a,198.51.100.10,bound,"))
        // discourage_renewals: T1 = T2 = 97.5 % of the lease time.
        var response = dhcpPacket(mac: macA, type: 5)
        let context = HookContext(method: "REQUEST:SELECTING", mac: macA, clientIP: offer.ip, relayIP: nil, port: 67, requestID: 99)
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
