import Foundation
import Logging

/// Everything a request handler needs, shared by all requests.
final class WebState: Sendable {
    let configuration: WebConfiguration
    let source: any DashboardSource
    let reservations: (any ReservationStore)?
    let scripts: (any ScriptWebHost)?
    let logger: Logger
    let authenticator: DigestAuthenticator?
    let csrf: CSRFToken
    let now: @Sendable () -> Date

    init(
        configuration: WebConfiguration, source: any DashboardSource, reservations: (any ReservationStore)?,
        scripts: (any ScriptWebHost)?, logger: Logger, csrf: CSRFToken = CSRFToken(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.source = source
        self.reservations = reservations
        self.scripts = scripts
        self.logger = logger
        self.csrf = csrf
        self.now = now
        if configuration.authenticationEnabled, let user = configuration.digestUsername, let password = configuration.digestPassword {
            authenticator = DigestAuthenticator(
                username: user, password: password, realm: configuration.realm,
                lifetime: configuration.digestNonceLifetime, now: now)
        } else {
            authenticator = nil
        }
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
