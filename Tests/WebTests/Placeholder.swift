import Web
import Testing

@Test func webModuleLoads() {
    #expect(Bool(true))
}
