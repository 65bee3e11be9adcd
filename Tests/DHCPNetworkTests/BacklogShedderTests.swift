import DHCPNetwork
import Testing

@Suite struct BacklogShedderTests {
    let milliseconds: Int64 = 1_000_000

    @Test func aBurstShorterThanTheOverloadedAgeIsAnsweredInFull() {
        var shedder = BacklogShedder()
        let ages: [Int64] = [0, 10, 200, 450, 499, 300, 5].map { $0 * milliseconds }
        let admitted = ages.map { shedder.admits(age: $0) }
        #expect(admitted.allSatisfy { $0 })
        #expect(!shedder.shedding)
    }

    @Test func aStandingQueueIsDroppedDownToTheRecoveredAge() {
        var shedder = BacklogShedder()
        // The oldest request has waited 600 ms: it and everything older than 200 ms goes, then the
        // first younger one ends the episode and is answered, like all after it.
        let ages: [Int64] = [600, 550, 400, 250, 201, 199, 300, 450].map { $0 * milliseconds }
        let admitted = ages.map { shedder.admits(age: $0) }
        #expect(admitted == [false, false, false, false, false, true, true, true])
        #expect(!shedder.shedding)
    }

    @Test func aDatagramWithoutAnArrivalTimeIsAlwaysAnswered() {
        var shedder = BacklogShedder()
        let old = shedder.admits(age: 900 * milliseconds)
        let unknown = shedder.admits(age: nil)
        #expect(!old && unknown)
        #expect(shedder.shedding)
    }
}
