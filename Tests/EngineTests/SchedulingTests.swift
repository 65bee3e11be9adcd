import Databases
import Glibc
@testable import Engine
import Testing

/// REALTIME_PRIORITY: the engine's thread follows the installed generation's setting.
@Suite struct SchedulingTests {
    func install(_ harness: Harness, number: Int, priority: Int) async {
        await harness.engine.install(Generation(
            number: number, configuration: EngineConfiguration(serverIP: serverIP, realtimePriority: priority),
            hooks: ClosureHooks(), database: MemoryDatabase(entries: [knownMAC: [knownDefinition]])
        ))
    }

    func threadPriority(_ harness: Harness) async -> Int {
        await harness.engine.perform { harness.engine.thread.realtimePriority }
    }

    @Test func theEngineThreadFollowsTheSetting() async throws {
        let harness = Harness()
        #expect(await threadPriority(harness) == 0)
        await install(harness, number: 2, priority: 10)
        if geteuid() == 0 {
            #expect(await threadPriority(harness) == 10)
            // The policy is the engine thread's alone: this (test) thread stays ordinary.
            #expect(sched_getscheduler(0) & ~Int32(0x4000_0000) == SCHED_OTHER)
            await install(harness, number: 3, priority: 0)
            #expect(await threadPriority(harness) == 0)
            // Back under ordinary scheduling, the thread keeps its favoured nice value.
            // (who = 0 is the calling thread on Linux, where nice values are per thread.)
            let nice = await harness.engine.perform { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
            #expect(nice == EngineThread.niceValue)
        } else {
            // Without the privilege the kernel refuses and the thread keeps what it had.
            #expect(await threadPriority(harness) == 0)
        }
        // Still answering after the changes.
        #expect(await harness.exchange(clientPacket(1)) != nil)
    }
}
