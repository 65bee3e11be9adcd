import Engine
import Scripting
import Web

/// conf.lua's web registrations, run on the engine's executor like every other script call. The
/// registrations, runtime and engine come from the snapshot, so only the callbacks themselves wait
/// for the engine.
public struct LuaWebHost: ScriptWebHost {
    let snapshot: LockedWebSnapshot

    public init(snapshot: LockedWebSnapshot) {
        self.snapshot = snapshot
    }

    /// The runtime, its engine and its registrations, from one read: callback ids are per runtime.
    private func serving() throws -> (ScriptRuntime, DHCPEngine, WebRegistrations) {
        let now = snapshot.read()
        guard let (generation, engine) = now.serving, let registrations = now.registrations else { throw DaemonWebError.notServing }
        return (generation.runtime, engine, registrations)
    }

    public func registrations() async -> WebRegistrations {
        snapshot.read().registrations ?? WebRegistrations()
    }

    private func call(id: Int, _ request: WebCallbackRequest, runtime: ScriptRuntime, engine: DHCPEngine) async throws -> WebCallResult {
        try await finish(on: engine) { () throws(ScriptError) in try runtime.startWebCallback(id: id, request: request) }
    }

    private func fragment(_ result: WebCallResult) -> String? {
        switch result {
        case .none: nil
        case .fragment(let text): text
        case .content(_, let data, _): String(decoding: data, as: UTF8.self)
        }
    }

    public func callHeader(id: Int, request: WebCallbackRequest) async throws -> String? {
        let (runtime, engine, _) = try serving()
        return fragment(try await call(id: id, request, runtime: runtime, engine: engine))
    }

    public func callDashboardElement(id: Int, request: WebCallbackRequest) async throws -> String? {
        let (runtime, engine, _) = try serving()
        return fragment(try await call(id: id, request, runtime: runtime, engine: engine))
    }

    public func callMethod(path: String, request: WebCallbackRequest) async throws -> WebMethodOutput {
        let (runtime, engine, registered) = try serving()
        guard let method = registered.methods.first(where: { $0.path == path }) else {
            throw DaemonWebError("no web method at \(path)")
        }
        let result = try await call(id: method.id, request, runtime: runtime, engine: engine)
        if method.displayMode == .raw {
            switch result {
            case .content(let mimeType, let data, let headers): return .raw(mimetype: mimeType, body: data, headers: headers)
            case .fragment(let text): return .raw(mimetype: "text/plain; charset=utf-8", body: Array(text.utf8), headers: [:])
            case .none: return .raw(mimetype: "text/plain; charset=utf-8", body: [], headers: [:])
            }
        }
        return .fragment(fragment(result))
    }
}

/// Runs a script call on the engine's executor to its end: one that waits on the shared store
/// waits here (off the engine's thread) and goes on there when the answer is back.
func finish<T: Sendable>(on engine: DHCPEngine, _ start: @escaping @Sendable () throws(ScriptError) -> HookRun<T>) async throws -> T {
    var run = try await engine.perform { () throws -> HookRun<T> in
        do { return try start() } catch { throw DaemonWebError("\(error)") }
    }
    while case .suspended(let call) = run {
        await call.wait()
        run = try await engine.perform { () throws -> HookRun<T> in
            do { return try call.resume() } catch { throw DaemonWebError("\(error)") }
        }
    }
    guard case .done(let value) = run else { throw DaemonWebError("a script call did not finish") }
    return value
}
