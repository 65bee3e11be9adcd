import Network
import Testing

@Test func networkModuleLoads() {
    #expect(Bool(true))
}
