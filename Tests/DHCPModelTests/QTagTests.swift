import DHCPModel
import Testing

@Suite struct QTagTests {
    @Test func outOfRangeValuesMakeNoTag() {
        #expect(QTag(pcp: 8, dei: false, vid: 1) == nil)
        #expect(QTag(pcp: -1, dei: false, vid: 1) == nil)
        #expect(QTag(pcp: 0, dei: false, vid: 0) == nil)
        #expect(QTag(pcp: 0, dei: false, vid: 4095) == nil)
    }

    @Test func controlInformationPacksPriorityDropEligibleAndVLAN() {
        #expect(QTag(pcp: 7, dei: false, vid: 4094)?.controlInformation == 0xEFFE)
        #expect(QTag(pcp: 0, dei: true, vid: 1)?.controlInformation == 0x1001)
    }
}
