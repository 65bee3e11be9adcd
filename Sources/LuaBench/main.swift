// Scripting micro-benchmark (scripts/bench-lua): nanoseconds per loadDHCPPacket call that sets two
// options, next to nanoseconds per decode+encode of the same packet.
import DHCPWire
import Databases
import Foundation
import Scripting

struct SilentLog: ScriptLog {
    func log(_ level: LogLevel, logger: String, _ message: String) {}
}

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
// An optional second argument runs one case alone (for profilers): codec, hook, hook-nodef,
// hook-meta (scripts/bench's HOOK_LUA: two setOption calls and packet.meta, one request per call),
// hook-meta-macs (the same, the MAC changing over 10,000 clients)
// hook-empty (a loadDHCPPacket that only returns true: the fixed cost of a hook call),
// or hook-meta-cold (hook-meta-macs timed call by call, after walking N bytes of other memory
// before each call, as a packet's trip through the kernel and the engine does in the daemon).
let only = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : nil
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("luabench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let baseSettings = """
DHCP_SERVER_IP = "192.0.2.1"
DATABASE_ENGINE = "SQLite"
SQLITE_FILE = "dhcp.sqlite3"

"""
func makeRuntime(_ name: String, _ source: String) throws -> ScriptRuntime {
    let folder = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let file = folder.appendingPathComponent("conf.lua")
    try (baseSettings + source).write(to: file, atomically: true, encoding: .utf8)
    return try ScriptRuntime(configFile: file, log: SilentLog())
}

let runtime = try makeRuntime("plain", """
function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  packet:setOption(51, 3600)
  packet:setOption("renewal_time_value", 1800)
  return true
end
""")

// The hook scripts/lib/benchkit/servers.py (HOOK_LUA) gives the daemon in scripts/bench.
let metaRuntime = try makeRuntime("meta", """
function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  packet.meta.seen = (packet.meta.seen or 0) + 1
  packet:setOption("renewal_time_value", 1800)
  packet:setOption("rebinding_time_value", 3150)
  return true
end
""")

var request = DHCPPacket()
request.op = 1; request.htype = 1; request.hlen = 6; request.xid = 0x1234_5678
request.setHardwareAddress(MAC(0x0011_2233_4455))
request.setOption(53, bytes: [3])
request.setOption(50, bytes: [192, 0, 2, 10])
request.setOption(54, bytes: [192, 0, 2, 1])
request.setOption(55, bytes: [1, 3, 6, 15, 51, 58, 59])
request.setOption(61, bytes: [1, 0, 0x11, 0x22, 0x33, 0x44, 0x55])
let wire = request.encode()
var response = request
response.transformToAck()
let definition = Definition(ip: IPv4(192, 0, 2, 10), leaseTime: 3600, subnet: "192.0.2.0/24", serial: 0,
                            gateways: [IPv4(192, 0, 2, 1)], subnetMask: IPv4(255, 255, 255, 0))
let context = RequestContext(method: "REQUEST:SELECTING", mac: MAC(0x0011_2233_4455), clientIP: IPv4(192, 0, 2, 10),
                          relayIP: nil, port: 67, requestID: 1)

func measure(_ label: String, _ name: String, _ body: () throws -> Void) rethrows -> Double {
    if let only, only != name { return .nan }
    for _ in 0..<(iterations / 10) { try body() } // warm-up
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { try body() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
    let perCall = elapsed / Double(iterations)
    print(String(format: "%-44@ %9.1f ns/call  (%d calls)", label as NSString, perCall, iterations))
    return perCall
}

var sink = 0
let codec = try measure("decode+encode (REQUEST, 7 options)", "codec") {
    let packet = try DHCPPacket(decoding: wire)
    sink &+= packet.encode().count
}
let hook = try measure("loadDHCPPacket setting two options", "hook") {
    var packet = response
    sink &+= try runtime.loadDHCPPacket(&packet, context, definition: definition, source: request).value! ? 1 : 0
}
let hookNoDefinition = try measure("loadDHCPPacket, two options, no definition", "hook-nodef") {
    var packet = response
    sink &+= try runtime.loadDHCPPacket(&packet, context, definition: nil, source: request).value! ? 1 : 0
}
// As the engine does per request: a fresh request id, the hook, then endRequest (drops packet.meta).
var requestID: UInt64 = 1
let hookMeta = try measure("loadDHCPPacket as scripts/bench (meta + 2 opts)", "hook-meta") {
    var packet = response
    var requestContext = context
    requestID &+= 1
    requestContext.requestID = requestID
    sink &+= try metaRuntime.loadDHCPPacket(&packet, requestContext, definition: definition, source: request).value! ? 1 : 0
    metaRuntime.endRequest(requestID)
}
// The same over 10,000 clients in turn, as perfdhcp's clients arrive at the daemon: each call's MAC
// string is one Lua has not seen for a while (interned afresh, or found in a cold bucket).
var clientIndex: UInt64 = 0
/// One call of the bench's hook for the next of 10,000 clients, with its request id ended after it.
@MainActor func callHookForNextClient() throws {
    var packet = response
    var requestContext = context
    requestID &+= 1
    clientIndex = (clientIndex + 1) % 10_000
    requestContext.requestID = requestID
    requestContext.mac = MAC(0x0200_0001_0000 + clientIndex)
    sink &+= try metaRuntime.loadDHCPPacket(&packet, requestContext, definition: definition, source: request).value! ? 1 : 0
    metaRuntime.endRequest(requestID)
}
let hookMetaClients = try measure("loadDHCPPacket as scripts/bench, 10,000 MACs", "hook-meta-macs") {
    try callHookForNextClient()
}
let emptyRuntime = try makeRuntime("empty", """
function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  return true
end
""")
let hookEmpty = try measure("loadDHCPPacket returning true", "hook-empty") {
    var packet = response
    sink &+= try emptyRuntime.loadDHCPPacket(&packet, context, definition: definition, source: request).value! ? 1 : 0
}
// The hook after the caches were filled with other data, for several amounts of it: how much of
// the daemon's per-call cost (2.2 us at 10,000/s against about 0.85 us here) is the interpreter
// and its data finding the caches cold. Only the call is timed; the walk is not.
if only == "hook-meta-cold" {
    let sizes = [0, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20]
    let other = UnsafeMutableRawBufferPointer.allocate(byteCount: sizes.last!, alignment: 64)
    defer { other.deallocate() }
    other.initializeMemory(as: UInt8.self, repeating: 1)
    var clockCost = UInt64.max
    for _ in 0..<1000 {
        let start = DispatchTime.now().uptimeNanoseconds
        clockCost = min(clockCost, DispatchTime.now().uptimeNanoseconds - start)
    }
    let calls = max(1000, iterations / 10)
    for size in sizes {
        var total: UInt64 = 0
        for _ in 0..<calls {
            // Touch every cache line of `size` bytes, writing, as received packets and lookups do.
            var offset = 0
            while offset < size {
                other[offset] &+= 1
                offset += 64
            }
            let start = DispatchTime.now().uptimeNanoseconds
            try callHookForNextClient()
            total += DispatchTime.now().uptimeNanoseconds - start - clockCost
        }
        print(String(format: "hook-meta-macs after touching %5d KiB: %7.1f ns/call  (%d calls)",
                     size >> 10, Double(total) / Double(calls), calls))
    }
}
if only == nil {
    print(String(format: "hook / codec ratio: %.2f (without the definition userdata: %.2f)", hook / codec, hookNoDefinition / codec))
    print(String(format: "scripts/bench hook / codec ratio: %.2f; empty hook / codec: %.2f", hookMeta / codec, hookEmpty / codec))
}
print("Lua state: \(runtime.memoryInUse) bytes in use, peak \(runtime.memoryPeak) (sink \(sink))")
