import Databases
import Testing

@Test func databasesModuleLoads() {
    #expect(Bool(true))
}
