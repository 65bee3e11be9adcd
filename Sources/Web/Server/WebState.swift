import Foundation
import Logging
import Synchronization

/// Everything a request handler needs, shared by all requests.
///
/// The settings, the authenticator and the reservation store can change under a running server
/// (`reconfigure`, on a reload of conf.lua); each read takes the current one. The lease source
/// does not: it reads whichever store the serving generation has.
final class WebState: Sendable {
    let source: any DashboardSource
    let scripts: (any ScriptWebHost)?
    let leases: (any LeaseSource)?
    /// Runs the /explain page's requests; nil leaves the page out.
    let explainer: (any ExplainSource)?
    let logger: Logger
    let csrf: CSRFTokens
    /// Whether a request that arrived without a peer address (HummingbirdTesting's socketless
    /// `.router` framework) counts as coming from loopback. A real connection always has one.
    let addresslessPeerIsLoopback: Bool
    let now: @Sendable () -> Date
    private let live: Mutex<Live>

    private struct Live: Sendable {
        var configuration: WebConfiguration
        var authenticator: DigestAuthenticator?
        var reservations: (any ReservationStore)?
    }

    var configuration: WebConfiguration { live.withLock { $0.configuration } }
    var authenticator: DigestAuthenticator? { live.withLock { $0.authenticator } }
    var reservations: (any ReservationStore)? { live.withLock { $0.reservations } }

    init(
        configuration: WebConfiguration, source: any DashboardSource, reservations: (any ReservationStore)?,
        scripts: (any ScriptWebHost)?, leases: (any LeaseSource)? = nil, explainer: (any ExplainSource)? = nil,
        logger: Logger, csrf: CSRFTokens = CSRFTokens(),
        addresslessPeerIsLoopback: Bool = false, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.source = source
        self.scripts = scripts
        self.leases = leases
        self.explainer = explainer
        self.logger = logger
        self.csrf = csrf
        self.addresslessPeerIsLoopback = addresslessPeerIsLoopback
        self.now = now
        live = Mutex(Live(
            configuration: configuration, authenticator: Self.authenticator(for: configuration, now: now),
            reservations: reservations))
    }

    /// Takes new settings and a new reservation store. The authenticator (and the nonces it has
    /// issued) is kept unless the credentials, the realm or the nonce lifetime changed.
    func reconfigure(_ configuration: WebConfiguration, reservations: (any ReservationStore)?) {
        live.withLock { live in
            let old = live.configuration
            if old.digestUsername != configuration.digestUsername || old.digestPassword != configuration.digestPassword
                || old.realm != configuration.realm || old.digestNonceLifetime != configuration.digestNonceLifetime {
                live.authenticator = Self.authenticator(for: configuration, now: now)
            }
            live.configuration = configuration
            live.reservations = reservations
        }
    }

    private static func authenticator(for configuration: WebConfiguration, now: @escaping @Sendable () -> Date) -> DigestAuthenticator? {
        guard configuration.authenticationEnabled, let user = configuration.digestUsername,
              let password = configuration.digestPassword else { return nil }
        return DigestAuthenticator(
            username: user, password: password, realm: configuration.realm,
            lifetime: configuration.digestNonceLifetime, now: now)
    }

    /// The CSRF token `visitor`'s forms carry, or nil when `visitor` may change nothing: with
    /// credentials set, only a signed-in user has one (a page served to an anonymous visitor shows
    /// none); without them, only a visitor `mayChangeStateWithoutCredentials` (README, web section).
    func csrfToken(for visitor: Visitor) -> String? {
        let configuration = configuration
        if authenticator != nil {
            return visitor.username.map { csrf.token(for: $0, realm: configuration.realm) }
        }
        return mayChangeStateWithoutCredentials(visitor) ? csrf.token(for: nil, realm: configuration.realm) : nil
    }

    /// Without credentials, a dashboard listening beyond loopback takes changes only from the
    /// server itself: anyone on the network could otherwise reload it or edit its data.
    func mayChangeStateWithoutCredentials(_ visitor: Visitor) -> Bool {
        visitor.isLoopback || !configuration.listensBeyondLoopback
    }

    func registrations() async -> WebRegistrations {
        await scripts?.registrations() ?? WebRegistrations()
    }

    /// Runs a script callback under the configured deadline, logging failures; nil result on failure
    /// with a message for the operator that reveals nothing of the script's internals.
    func runCallback<Value: Sendable>(
        _ what: String, _ call: @escaping @Sendable () async throws -> Value
    ) async -> Result<Value, CallbackFailure> {
        do {
            return .success(try await withDeadline(configuration.callbackTimeout, operation: call))
        } catch let error as DeadlineExceeded {
            logger.error("web callback \(what) did not answer within \(error.limit)")
            return .failure(CallbackFailure(message: "\(what) did not answer in time."))
        } catch {
            logger.error("web callback \(what) failed: \(String(describing: error))")
            return .failure(CallbackFailure(message: "\(what) failed; see the server log."))
        }
    }
}

struct CallbackFailure: Error, Sendable {
    let message: String
}
