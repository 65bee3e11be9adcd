import Glibc
@testable import DHCPService
import Engine
import Testing

/// REALTIME_PRIORITY: the engine's thread follows the installed generation's setting.
@Suite struct SchedulingTests {
    func threadPriority(_ service: DHCPService) async -> Int {
        await service.engine.perform { service.thread.realtimePriority }
    }

    @Test func theEngineThreadFollowsTheSetting() async throws {
        let log = SeenLog()
        let sockets = try loopbackSockets()
        let service = DHCPService(sockets: sockets, generation: generation(1, log: log), logger: testLogger)
        service.start()
        #expect(await threadPriority(service) == 0)
        await service.install(generation(2, log: log, realtimePriority: 10))
        if geteuid() == 0 {
            #expect(await threadPriority(service) == 10)
            // The policy is the engine thread's alone: this (test) thread stays ordinary.
            #expect(sched_getscheduler(0) & ~Int32(0x4000_0000) == SCHED_OTHER)
            await service.install(generation(3, log: log, realtimePriority: 0))
            #expect(await threadPriority(service) == 0)
            // Back under ordinary scheduling, the thread keeps its favoured nice value.
            // (who = 0 is the calling thread on Linux, where nice values are per thread.)
            let nice = await service.engine.perform { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
            #expect(nice == EngineThread.niceValue)
        } else {
            // Without the privilege the kernel refuses and the thread keeps what it had.
            #expect(await threadPriority(service) == 0)
        }
        // Still answering after the changes.
        let client = try TestClient()
        try client.send(discover(knownMAC), to: sockets.serverPort)
        #expect(await log.wait(for: 1).last?.generation == (geteuid() == 0 ? 3 : 2))
        await service.stop()
    }
}
