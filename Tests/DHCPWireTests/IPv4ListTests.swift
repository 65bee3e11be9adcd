import DHCPWire
import Testing

@Suite struct IPv4ListTests {
    @Test func readsEveryAddressInOrder() throws {
        #expect(try IPv4.list("192.0.2.1,192.0.2.2") == [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)])
        #expect(try IPv4.list(" 192.0.2.1 , 192.0.2.2") == [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)])
    }

    @Test func emptyPiecesAreSkippedUnlessAskedOtherwise() throws {
        #expect(try IPv4.list("") == [])
        #expect(try IPv4.list("192.0.2.1,,192.0.2.2,") == [IPv4(192, 0, 2, 1), IPv4(192, 0, 2, 2)])
        #expect(throws: IPv4.ListEntryError(piece: "")) { try IPv4.list("192.0.2.1,,192.0.2.2", skippingEmptyPieces: false) }
        #expect(throws: IPv4.ListEntryError(piece: "")) { try IPv4.list("", skippingEmptyPieces: false) }
    }

    @Test func theFirstBadPieceIsNamed() {
        #expect(throws: IPv4.ListEntryError(piece: "192.0.2.300")) { try IPv4.list("192.0.2.1,192.0.2.300,nonsense") }
    }
}
