// Codec micro-benchmark: packets per second for decode, encode and both, on a typical DISCOVER and
// on a relayed REQUEST carrying option 82. Run through scripts/bench-wire (release build).
import DHCPWire

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func header(op: UInt8, xid: UInt32, mac: [UInt8], giaddr: [UInt8] = [0, 0, 0, 0], hops: UInt8 = 0) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 236)
    bytes[0] = op; bytes[1] = 1; bytes[2] = 6; bytes[3] = hops
    bytes[4] = UInt8(xid >> 24); bytes[5] = UInt8(xid >> 16 & 0xFF); bytes[6] = UInt8(xid >> 8 & 0xFF); bytes[7] = UInt8(xid & 0xFF)
    bytes.replaceSubrange(24..<28, with: giaddr)
    bytes.replaceSubrange(28..<34, with: mac)
    return bytes + [99, 130, 83, 99]
}

let mac: [UInt8] = [0x02, 0, 0, 0x01, 0, 0x2A]
// A DISCOVER as dhclient sends it: type, client-id, hostname, parameter list, max size.
let discover = header(op: 1, xid: 0x1234_5678, mac: mac)
    + [53, 1, 1, 61, 7, 1] + mac + [12, 6] + Array("client".utf8)
    + [55, 13, 1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42, 57, 2, 2, 64, 255]
// A relayed REQUEST (SELECTING) with option 82 (circuit id + remote id).
let request = header(op: 1, xid: 0x1234_5679, mac: mac, giaddr: [198, 51, 100, 2], hops: 1)
    + [53, 1, 3, 61, 7, 1] + mac + [50, 4, 192, 0, 2, 42, 54, 4, 192, 0, 2, 1]
    + [55, 7, 1, 3, 6, 15, 51, 54, 58]
    + [82, 18, 1, 6, 0, 4, 0, 1, 0, 7, 2, 8, 0, 6, 2, 0, 0, 0, 0, 1, 255]

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2_000_000 : 2_000_000

func measure(_ label: String, _ body: () throws -> Int) rethrows {
    _ = try body() // warm up
    let start = now()
    let checksum = try body()
    let seconds = now() - start
    let rate = Double(iterations) / seconds
    print("\(label): \(Int(rate)) packets/s (\(String(Int(seconds * 1000))) ms for \(iterations), check \(checksum))")
}

for (name, datagram) in [("DISCOVER", discover), ("relayed REQUEST+82", request)] {
    var reply = try DHCPPacket(decoding: datagram)
    reply.transformToOffer()
    try reply.setOption("yiaddr", .ipv4(IPv4(192, 0, 2, 42)))
    try reply.setOption(54, .ipv4(IPv4(192, 0, 2, 1)))
    try reply.setOption(51, .integer(3600))
    try reply.setOption(1, .ipv4(IPv4(255, 255, 255, 0)))
    try reply.setOption(3, .ipv4(IPv4(192, 0, 2, 1)))
    try reply.setOption(6, .ipv4(IPv4(192, 0, 2, 53)))
    var out: [UInt8] = []
    out.reserveCapacity(1500)
    try datagram.withUnsafeBytes { raw in
        try measure("\(name) decode") {
            var sum = 0
            for _ in 0..<iterations { sum &+= Int(try DHCPPacket(decoding: raw).xid & 1) }
            return sum
        }
    }
    measure("\(name) encode") {
        var sum = 0
        for _ in 0..<iterations { reply.encode(into: &out); sum &+= out.count }
        return sum
    }
    try datagram.withUnsafeBytes { raw in
        try measure("\(name) decode+encode") {
            var sum = 0
            for _ in 0..<iterations {
                let packet = try DHCPPacket(decoding: raw)
                packet.encode(into: &out)
                sum &+= out.count
            }
            return sum
        }
    }
}
