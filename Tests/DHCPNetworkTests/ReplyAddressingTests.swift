import DHCPWire
import Testing
@testable import DHCPNetwork

/// The cases of docs/PROTOCOL.md §4.1 (§6 items 10, 21 and 22: where they differ from the original).
@Suite struct ReplyAddressingTests {
    let chaddr = MAC(0x0011_2233_4455)
    let client = IPv4(192, 0, 2, 50)
    let relayUDPSource = IPv4(198, 51, 100, 2)
    let giaddr = IPv4(198, 51, 100, 1)
    let broadcastMAC = MAC(0xFFFF_FFFF_FFFF)

    func facts(flag: Bool = false, ciaddr: IPv4 = .zero, giaddr: IPv4 = .zero, yiaddr: IPv4 = .zero) -> ReplyFacts {
        ReplyFacts(broadcastFlag: flag, ciaddr: ciaddr, giaddr: giaddr, yiaddr: yiaddr, clientMAC: chaddr)
    }

    func config(layer2: Bool, proxy: UInt16? = nil) -> AddressingConfig {
        AddressingConfig(serverPort: 67, clientPort: 68, proxyPort: proxy, hasLayer2Responder: layer2)
    }

    func route(_ facts: ReplyFacts, from source: IPv4, port: UInt16 = 68, proxy: Bool = false, layer2: Bool) -> ReplyRoute {
        ReplyAddressing.route(
            facts: facts, requestSource: (source, port), arrivedOnProxy: proxy,
            config: config(layer2: layer2, proxy: proxy ? 4011 : nil)
        )
    }

    @Test func broadcastSourceWithoutLayer2IsAnL3BroadcastWithTheFlagSet() {
        for yiaddr in [IPv4.zero, client] {
            let result = route(facts(yiaddr: yiaddr), from: .zero, layer2: false)
            #expect(result == ReplyRoute(socket: .broadcastL3, destinationIP: .broadcast, destinationPort: 68,
                                         sourcePort: 67, broadcastFlag: true))
        }
    }

    @Test func broadcastSourceWithLayer2AndNoFlagIsUnicastToYiaddrAtChaddr() {
        let result = route(facts(yiaddr: client), from: .zero, layer2: true)
        #expect(result == ReplyRoute(socket: .layer2, destinationIP: client, destinationPort: 68, sourcePort: 67,
                                     destinationMAC: chaddr, broadcastFlag: false))
    }

    @Test func requestFrom255IsTreatedLikeOneFrom0() {
        let result = route(facts(yiaddr: client), from: .broadcast, layer2: true)
        #expect(result.socket == .layer2)
        #expect(result.destinationIP == client)
    }

    @Test func layer2NakWithoutYiaddrIsBroadcastToTheBroadcastMAC() {
        let result = route(facts(), from: .zero, layer2: true)
        #expect(result == ReplyRoute(socket: .layer2, destinationIP: .broadcast, destinationPort: 68, sourcePort: 67,
                                     destinationMAC: broadcastMAC, broadcastFlag: true))
    }

    @Test func layer2WithTheClientsBroadcastFlagIsBroadcast() {
        let result = route(facts(flag: true, yiaddr: client), from: .zero, layer2: true)
        #expect(result == ReplyRoute(socket: .layer2, destinationIP: .broadcast, destinationPort: 68, sourcePort: 67,
                                     destinationMAC: broadcastMAC, broadcastFlag: true))
    }

    @Test func unicastSourceIsAnsweredFromTheMainSocketWithTheFlagClear() {
        for layer2 in [false, true] {
            for flag in [false, true] {
                let result = route(facts(flag: flag, ciaddr: client, yiaddr: client), from: client, layer2: layer2)
                #expect(result == ReplyRoute(socket: .main, destinationIP: client, destinationPort: 68, sourcePort: 67,
                                             broadcastFlag: false))
            }
        }
    }

    @Test func relayedWithoutCiaddrGoesToGiaddrOnTheServerPortWithTheFlagSet() {
        let result = route(facts(giaddr: giaddr, yiaddr: client), from: relayUDPSource, port: 67, layer2: true)
        #expect(result == ReplyRoute(socket: .main, destinationIP: giaddr, destinationPort: 67, sourcePort: 67,
                                     broadcastFlag: true))
    }

    @Test func relayedWithCiaddrGoesToGiaddrWithTheFlagClear() {
        let result = route(facts(ciaddr: client, giaddr: giaddr, yiaddr: client), from: relayUDPSource, port: 67, layer2: false)
        #expect(result == ReplyRoute(socket: .main, destinationIP: giaddr, destinationPort: 67, sourcePort: 67,
                                     broadcastFlag: false))
    }

    @Test func relayedRenewWhereTheEnginePassesCiaddrStillGoesToTheRelay() {
        // The original sent this to ciaddr:67, which no one listens on.
        let result = route(facts(ciaddr: client, giaddr: giaddr, yiaddr: client), from: client, port: 0, layer2: true)
        #expect(result.destinationIP == giaddr)
        #expect(result.destinationPort == 67)
    }

    @Test func renewWithCiaddrAsTheSourceGoesToCiaddrOnTheClientPort() {
        let result = route(facts(ciaddr: client, yiaddr: client), from: client, port: 0, layer2: true)
        #expect(result == ReplyRoute(socket: .main, destinationIP: client, destinationPort: 68, sourcePort: 67,
                                     broadcastFlag: false))
    }

    @Test func proxyArrivalIsAnsweredFromTheProxySocketToCiaddrAtTheSourcePort() {
        let other = IPv4(192, 0, 2, 77)
        let result = route(facts(ciaddr: client), from: other, port: 4011, proxy: true, layer2: true)
        #expect(result == ReplyRoute(socket: .proxy, destinationIP: client, destinationPort: 4011, sourcePort: 4011,
                                     broadcastFlag: false))
    }

    @Test func proxyArrivalWithoutCiaddrGoesToTheSourceAddressAndPort() {
        let result = route(facts(), from: client, port: 1234, proxy: true, layer2: false)
        #expect(result == ReplyRoute(socket: .proxy, destinationIP: client, destinationPort: 1234, sourcePort: 4011,
                                     broadcastFlag: false))
    }

    @Test func proxyArrivalFromPortZeroUsesTheClientPort() {
        let result = route(facts(), from: client, port: 0, proxy: true, layer2: false)
        #expect(result.destinationPort == 68)
        #expect(result.socket == .proxy)
    }

    @Test func proxyFlagWithoutAProxySocketFallsBackToTheOrdinaryPath() {
        let result = ReplyAddressing.route(
            facts: facts(), requestSource: (client, 68), arrivedOnProxy: true, config: config(layer2: false, proxy: nil))
        #expect(result.socket == .main)
    }

    @Test func responseIPReplacesTheDestinationOnlyWhenTheFlagWasClear() {
        let target = IPv4(203, 0, 113, 9)
        var clear = facts(yiaddr: client)
        clear.responseIP = target
        #expect(route(clear, from: .zero, layer2: true).destinationIP == target)
        var set = clear
        set.broadcastFlag = true
        #expect(route(set, from: .zero, layer2: true).destinationIP == .broadcast)
    }

    @Test func responsePortAndMACAndSourcePortOverride() {
        var overridden = facts(yiaddr: client)
        overridden.responsePort = 1068
        overridden.responseMAC = MAC(0x0200_0000_0099)
        overridden.responseSourcePort = 1067
        let result = route(overridden, from: .zero, layer2: true)
        #expect(result == ReplyRoute(socket: .layer2, destinationIP: client, destinationPort: 1068, sourcePort: 1067,
                                     destinationMAC: MAC(0x0200_0000_0099), broadcastFlag: false))
    }

    @Test func responseSourcePortDoesNotChangeALayer3SocketsPort() {
        var overridden = facts(ciaddr: client)
        overridden.responseSourcePort = 1067
        #expect(route(overridden, from: client, layer2: true).sourcePort == 67)
    }

    @Test func routeDescriptionNamesDestinationAndSocket() {
        let text = route(facts(yiaddr: client), from: .zero, layer2: true).description
        #expect(text == "192.0.2.50:68 via layer2 from port 67 mac 00:11:22:33:44:55 flag 0")
    }
}
