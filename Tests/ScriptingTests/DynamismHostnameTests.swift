import DHCPWire
import Databases
import Foundation
import Scripting
import Testing

/// dynamism records the name a client sends (option 12) on its lease, for the dashboard's leases
/// page and `staticdhcpd leases`; the name is whatever bytes the client chose.
@Suite struct DynamismHostnameTests {
    let mac = MAC(0x0200_0000_000A)

    /// One request of `mac` through handleUnknownMAC, as the engine makes it, with option 12 when given.
    func ask(_ runtime: ScriptRuntime, _ method: String, hostname: [UInt8]?, requested: IPv4? = nil, id: UInt64) throws -> Definition? {
        var packet = dhcpPacket(mac: mac, type: method == "DISCOVER" ? 1 : 3, requested: requested)
        if let hostname { packet.setOption(12, bytes: hostname) }
        let context = RequestContext(method: method, mac: mac, clientIP: method == "DISCOVER" ? nil : requested,
                                  relayIP: IPv4(198, 51, 100, 2), port: 67, requestID: id)
        defer { runtime.endRequest(id) }
        return try runtime.handleUnknownMAC(&packet, context).value!.first
    }

    @Test func theClientsNameIsKeptOnItsLeaseAndThroughRenewalsWithoutOne() throws {
        let (runtime, _, store) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        let offer = try #require(try ask(runtime, "DISCOVER", hostname: Array("anna-laptop".utf8), id: 1))
        #expect(try PoolLeases.leases(in: PoolLeases.rows(of: store)).map(\.hostname) == ["anna-laptop"])
        // A REQUEST without option 12 keeps the name the lease has.
        #expect(try ask(runtime, "REQUEST:SELECTING", hostname: nil, requested: offer.ip, id: 2)?.ip == offer.ip)
        let bound = try PoolLeases.leases(in: PoolLeases.rows(of: store))
        #expect(bound.map(\.state) == ["bound"])
        #expect(bound.map(\.hostname) == ["anna-laptop"])
        // A new name replaces it.
        #expect(try ask(runtime, "REQUEST:SELECTING", hostname: Array("anna-desk".utf8), requested: offer.ip, id: 3)?.ip == offer.ip)
        #expect(try PoolLeases.leases(in: PoolLeases.rows(of: store)).map(\.hostname) == ["anna-desk"])
        // The definition's hostname is still the pool's, not the client's.
        #expect(offer.hostname == "dyn-198-51-100-10")
    }

    @Test func bytesThatAreNotPrintableTextAreLeftOutAndNeverCostTheLease() throws {
        let (runtime, _, store) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        // Invalid UTF-8, control characters and a NUL terminator around printable text: the store
        // takes only UTF-8, so the name is cut down to printable ASCII before it is written.
        let hostile: [UInt8] = [0xff, 0xfe] + Array("<b>x".utf8) + [0x1b, 0x0a, 0x00]
        #expect(try ask(runtime, "DISCOVER", hostname: hostile, id: 1) != nil)
        #expect(try PoolLeases.leases(in: PoolLeases.rows(of: store)).map(\.hostname) == ["<b>x"])

        // Nothing printable: no name at all (and still an address).
        let (other, _, otherStore) = try makeStoredRuntime(dynamismConf, extensions: try shippedExtensions())
        #expect(try ask(other, "DISCOVER", hostname: [0x00, 0xc3], id: 1) != nil)
        let leases = try PoolLeases.leases(in: PoolLeases.rows(of: otherStore))
        #expect(leases.count == 1)
        #expect(leases.first?.hostname == nil)
    }
}
