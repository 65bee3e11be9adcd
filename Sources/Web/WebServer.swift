import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// The dashboard and HTTP API. Build it once with the executable's adapters, then either `run()` it
/// or add `makeApplication()` to a ServiceGroup.
public struct WebServer: Sendable {
    let state: WebState

    /// `leases`: the dynamic pools' leases for the leases page and `/api/leases`; nil leaves both out.
    /// `explainer`: runs the /explain page's requests; nil leaves the page out.
    public init(
        config: WebConfiguration, source: any DashboardSource, reservations: (any ReservationStore)?,
        scripts: (any ScriptWebHost)?, leases: (any LeaseSource)? = nil, explainer: (any ExplainSource)? = nil, logger: Logger
    ) {
        state = WebState(
            configuration: config, source: source, reservations: reservations, scripts: scripts, leases: leases,
            explainer: explainer, logger: logger)
    }

    /// For tests: a fixed CSRF secret and clock, and whether a request without a socket (the
    /// `.router` test framework) comes from loopback.
    init(
        config: WebConfiguration, source: any DashboardSource, reservations: (any ReservationStore)?,
        scripts: (any ScriptWebHost)?, leases: (any LeaseSource)? = nil, explainer: (any ExplainSource)? = nil, logger: Logger,
        csrfSecret: String, addresslessPeerIsLoopback: Bool, now: @escaping @Sendable () -> Date
    ) {
        state = WebState(
            configuration: config, source: source, reservations: reservations, scripts: scripts, leases: leases,
            explainer: explainer, logger: logger,
            csrf: CSRFTokens(secret: csrfSecret), addresslessPeerIsLoopback: addresslessPeerIsLoopback, now: now)
    }

    /// Applies new settings and a new reservation store to the running server: pages, secure
    /// flags and credentials change at once. The address, the port and the connection limits are
    /// the listening socket's; `sameListener(as:)` says whether they differ (then the caller
    /// starts another server).
    public func reconfigure(_ config: WebConfiguration, reservations: (any ReservationStore)?) {
        state.reconfigure(config, reservations: reservations)
    }

    /// Whether `config` listens where and how this server does.
    public func sameListener(as config: WebConfiguration) -> Bool {
        let current = state.configuration
        return current.ip == config.ip && current.port == config.port
            && current.idleTimeoutSeconds == config.idleTimeoutSeconds
    }

    /// The responder, usable on its own (HummingbirdTesting's `.router` framework drives it without a socket).
    public func makeResponder() -> WebResponder { WebResponder(state: state) }

    /// The CSRF token of `username` (nil: the operator of a dashboard without credentials); for tests.
    func csrfToken(forUser username: String?) -> String {
        state.csrf.token(for: username, realm: state.configuration.realm)
    }

    /// The Hummingbird application bound to WEB_IP:WEB_PORT; slow or idle connections are closed
    /// after the idle timeout, and oversized headers are refused by the HTTP decoder.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let configuration = state.configuration
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: .seconds(configuration.idleTimeoutSeconds),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
        return Application(
            responder: makeResponder(),
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(configuration.ip, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: state.logger)
    }

    /// Serves until the task is cancelled, then stops gracefully: the listening socket closes, requests
    /// in progress finish, and nothing is logged at error level.
    ///
    /// Cancelling Hummingbird's application directly makes it log "Waiting on child channel:
    /// CancellationError()" as an error. So the application runs in a service group inside an
    /// unstructured task, which the caller's cancellation does not reach; that cancellation is turned
    /// into the group's graceful shutdown instead.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(services: [makeApplication(onServerRunning: onServerRunning)], logger: state.logger)
        let serving = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}
