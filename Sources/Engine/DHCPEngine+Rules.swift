import Databases
import DHCPWire
import Logging

/// Whether a method's rules need the client's definition to go on.
enum RuleStep {
    case done
    case needsDefinition
}

/// The per-method rules of docs/PROTOCOL.md §2.1 and §2.2, each in two halves: what is
/// decided before the database is asked (`prepareRules`), and what follows from the definition
/// (`concludeRules`). The split lets the engine answer at once when the database can, and park
/// the request only when a lookup must wait.
extension DHCPEngine {
    func prepareRules(for method: RequestMethod, _ request: inout Request) throws(Stop) -> RuleStep {
        switch method {
        case .discover, .requestInitReboot, .inform:
            guard try filter(&request) else { return .done }
            logger.info("\(method.name) from \(request.macText)")
            if method == .inform && request.packet.ciaddr.nonZero == nil {
                throw .blocklist("ciaddr was not specified")
            }
        case .requestSelecting:
            guard serverIdentifier(request.packet) == request.configuration.serverIP else {
                request.outcome = .notForUs
                request.trace?.drop("the server identifier (option 54) names another server")
                return .done
            }
            guard try filter(&request) else { return .done }
            logger.info("REQUEST:SELECTING from \(request.macText)")
        case .requestRenew, .requestRebind:
            guard try filter(&request) else { return .done }
            let renewing = method == .requestRenew
            logger.info("\(method.name) from \(request.macText)")
            let configuration = request.configuration
            if configuration.nakRenewals && (renewing || configuration.authoritative) {
                request.trace?.note("NAK_RENEWALS", "NAK without asking the database")
                nak(&request)
                return .done
            }
        case .request:
            logger.warning("REQUEST from \(request.macText) unhandled: packet not compliant with DHCP spec")
            request.trace?.drop("REQUEST fits none of the RFC 2131 states")
            return .done
        case .decline:
            guard requestedIP(request.packet) != nil else { throw .blocklist("conflicting IP was not specified") }
            guard try forUs(&request) else { return .done }
            guard try filter(&request) else { return .done }
        case .release:
            guard try forUs(&request) else { return .done }
            guard try filter(&request) else { return .done }
        case .leaseQuery:
            guard try filter(&request) else { return .done }
            logger.info("LEASEQUERY from \(request.macText) ignored: lease queries are not supported")
            request.trace?.drop("lease queries are not supported")
            return .done
        }
        request.source = request.packet
        return .needsDefinition
    }

    /// DECLINE and RELEASE name the server they are for; another server's are not ours to judge.
    private func forUs(_ request: inout Request) throws(Stop) -> Bool {
        guard let sid = serverIdentifier(request.packet) else { throw .blocklist("server-identifier was not specified") }
        guard sid == request.configuration.serverIP else {
            request.outcome = .notForUs
            request.trace?.drop("the server identifier (option 54) names another server")
            return false
        }
        return true
    }

    func concludeRules(for method: RequestMethod, _ request: inout Request, definition: Definition?) throws(Stop) {
        let source = request.source ?? request.packet
        switch method {
        case .discover:
            guard let definition else {
                if request.configuration.authoritative {
                    nak(&request)
                    return
                }
                throw .blocklist("unknown MAC and server is not authoritative; ignoring because rejection is impossible")
            }
            var reply = request.packet
            if request.configuration.enableRapidCommit && source.hasOption(OptionCode.rapidCommit) {
                logger.info("DISCOVER from \(request.macText) requested rapid-commit")
                reply.transformToAck()
                // RFC 4039 §4: the ACK must carry option 80, whatever the parameter request list says.
                reply.setOption(OptionCode.rapidCommit, bytes: [])
                reply.select(OptionCode.rapidCommit)
            } else {
                reply.transformToOffer()
                request.offered = true
            }
            try answer(&request, with: reply, definition: definition, assignAddress: true, source: source)

        case .requestSelecting, .requestInitReboot:
            let wanted = requestedIP(source)
            let matches = method == .requestSelecting ? (wanted == nil || wanted == definition?.ip) : definition?.ip == wanted
            if let definition, matches {
                var reply = request.packet
                reply.transformToAck()
                try answer(&request, with: reply, definition: definition, assignAddress: true, source: source)
            } else {
                nak(&request)
            }

        case .requestRenew, .requestRebind:
            let ciaddr = source.ciaddr
            // Replies go to the client's own address (docs/PROTOCOL.md §4.1).
            let clientAddress = (ciaddr, UInt16(0))
            if let definition, definition.ip == ciaddr {
                var reply = request.packet
                reply.transformToAck()
                try answer(&request, with: reply, definition: definition, assignAddress: true, source: source, answerTo: clientAddress)
            } else if definition != nil || request.configuration.authoritative {
                if method == .requestRenew {
                    nak(&request, answerTo: clientAddress)
                }
            }

        case .inform:
            guard let definition else { throw .blocklist("unknown MAC") }
            var reply = request.packet
            reply.transformToAck()
            try answer(&request, with: reply, definition: definition, assignAddress: false, source: source)

        case .decline:
            let declined = requestedIP(source) ?? .zero
            if let definition, definition.ip == declined {
                logger.error("DECLINE from \(request.macText) for \(declined): another host is using the address assigned in subnet \(definition.subnet), serial \(definition.serial)")
                request.processed = true
                request.outcome = .accepted
                request.trace?.drop("DECLINE recorded; DECLINE gets no reply")
            } else if let definition {
                logger.warning("DECLINE from \(request.macText) for \(declined), but its assigned IP is \(definition.ip)")
            } else {
                logger.warning("DECLINE from \(request.macText) for \(declined), but the MAC is unknown")
            }

        case .release:
            let ciaddr = source.ciaddr
            if let definition, definition.ip == ciaddr {
                logger.info("RELEASE from \(request.macText) for \(ciaddr)")
                request.processed = true
                request.outcome = .accepted
                request.trace?.drop("RELEASE accepted; RELEASE gets no reply")
            } else {
                logger.warning("RELEASE from \(request.macText) for \(ciaddr), but no assignment is known")
            }

        case .request, .leaseQuery:
            break
        }
    }
}
