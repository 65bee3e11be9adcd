import DHCPModel
import DHCPNetwork
import DHCPWire
import Testing

/// A reload rebinds the sockets exactly when the network configuration compares unequal, so every
/// field takes part (docs/ARCHITECTURE.md, reload).
@Suite struct NetworkConfigEqualityTests {
    private let base = NetworkConfig(serverIP: IPv4(192, 0, 2, 1), proxyPort: 4011, allowRelays: true)

    @Test func sameSettingsCompareEqual() {
        #expect(base == NetworkConfig(serverIP: IPv4(192, 0, 2, 1), proxyPort: 4011, allowRelays: true))
    }

    @Test func anyChangedFieldMakesThemDifferent() throws {
        var changes: [NetworkConfig] = []
        var other = base
        other.serverIP = IPv4(192, 0, 2, 2); changes.append(other)
        other = base; other.serverPort = 1067; changes.append(other)
        other = base; other.clientPort = 1068; changes.append(other)
        other = base; other.proxyPort = nil; changes.append(other)
        other = base; other.responseInterface = .named("eth1"); changes.append(other)
        other = base; other.qtags = [try #require(QTag(pcp: 0, dei: false, vid: 100))]; changes.append(other)
        other = base; other.allowRelays = false; changes.append(other)
        other = base; other.receiveBufferBytes = nil; changes.append(other)
        for changed in changes { #expect(changed != base) }
    }
}
