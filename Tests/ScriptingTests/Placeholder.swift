import Scripting
import Testing

@Test func scriptingModuleLoads() {
    #expect(Bool(true))
}
