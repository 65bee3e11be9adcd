import Engine
import Foundation
import Generations
import Synchronization
import Web

/// The dashboard's /explain form over `ExplainRun`, the code of `staticdhcpd explain`: conf.lua as
/// it is on disk now (what a SIGHUP would load), not the generation serving, so a change can be
/// checked before it takes over. One at a time: each run loads its own Lua state and database.
public final class DaemonExplainSource: ExplainSource {
    typealias Run = @Sendable (ExplainRequest, URL) async throws(ExplainRun.Failure) -> ExplainReport

    let configFile: URL
    private let run: Run
    private let running = Atomic<Bool>(false)

    public convenience init(configFile: URL) {
        self.init(configFile: configFile, run: { request, file throws(ExplainRun.Failure) in
            try await ExplainRun.run(request, configFile: file)
        })
    }

    /// `run` stands in for `ExplainRun.run` (tests).
    init(configFile: URL, run: @escaping Run) {
        self.configFile = configFile
        self.run = run
    }

    public var methods: [String] { ExplainRequest.methods.map(\.name) }

    public func explain(_ form: ExplainForm) async -> ExplainAnswer {
        let request: ExplainRequest
        do {
            request = try ExplainRequest(parsing: form.mac, method: form.method, relay: form.relay, requestedIP: form.requestedIP)
        } catch {
            return ExplainAnswer(verdict: .refused, text: error.description)
        }
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return ExplainAnswer(verdict: .refused, text: "Another explain is running; try again in a moment.")
        }
        defer { running.store(false, ordering: .releasing) }
        do {
            let report = try await run(request, configFile)
            return ExplainAnswer(verdict: report.reply == nil ? .noReply : .reply, text: report.text)
        } catch {
            return ExplainAnswer(verdict: .refused, text: error.description)
        }
    }
}
