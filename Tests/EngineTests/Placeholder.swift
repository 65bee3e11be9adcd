import Engine
import Testing

@Test func engineModuleLoads() {
    #expect(Bool(true))
}
