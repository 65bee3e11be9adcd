import DHCPNetwork
import Testing

@Test func networkModuleLoads() {
    #expect(Bool(true))
}
