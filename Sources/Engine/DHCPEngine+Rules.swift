import Databases
import DHCPWire
import Logging

/// The per-method rules of server.md §2.5 and the matrix of §2.6.
extension DHCPEngine {
    func runRules(for method: RequestMethod, _ request: inout Request) async throws(Stop) {
        switch method {
        case .discover: try await discover(&request)
        case .requestSelecting: try await selecting(&request)
        case .requestInitReboot: try await initReboot(&request)
        case .requestRenew, .requestRebind: try await renewOrRebind(&request, renewing: method == .requestRenew)
        case .request:
            logger.warning("REQUEST from \(request.mac.map { "\($0)" } ?? "?") unhandled: packet not compliant with DHCP spec")
        case .inform: try await inform(&request)
        case .decline: try await decline(&request)
        case .release: try await release(&request)
        case .leaseQuery:
            guard try filter(&request) else { return }
            logger.info("LEASEQUERY from \(request.mac.map { "\($0)" } ?? "?") ignored: lease queries are not supported")
        }
    }

    private func discover(_ request: inout Request) async throws(Stop) {
        guard try filter(&request) else { return }
        let mac = request.mac.map { "\($0)" } ?? "?"
        logger.info("DISCOVER from \(mac)")
        let source = request.packet
        guard let definition = try await retrieveDefinition(&request) else {
            if request.configuration.authoritative {
                nak(&request)
                return
            }
            throw .blocklist("unknown MAC and server is not authoritative; ignoring because rejection is impossible")
        }
        var reply = request.packet
        if request.configuration.enableRapidCommit && source.hasOption(OptionCode.rapidCommit) {
            logger.info("DISCOVER from \(mac) requested rapid-commit")
            reply.transformToAck()
            // RFC 4039 §4: the ACK must carry option 80, whatever the parameter request list says.
            reply.setOption(OptionCode.rapidCommit, bytes: [])
            reply.select(OptionCode.rapidCommit)
        } else {
            reply.transformToOffer()
        }
        try answer(&request, with: reply, definition: definition, assignAddress: true, source: source)
    }

    private func selecting(_ request: inout Request) async throws(Stop) {
        guard serverIdentifier(request.packet) == request.configuration.serverIP else {
            request.outcome = .notForUs
            return
        }
        guard try filter(&request) else { return }
        logger.info("REQUEST:SELECTING from \(request.mac.map { "\($0)" } ?? "?")")
        let source = request.packet
        let wanted = requestedIP(source)
        if let definition = try await retrieveDefinition(&request), wanted == nil || wanted == definition.ip {
            var reply = request.packet
            reply.transformToAck()
            try answer(&request, with: reply, definition: definition, assignAddress: true, source: source)
        } else {
            nak(&request)
        }
    }

    private func initReboot(_ request: inout Request) async throws(Stop) {
        guard try filter(&request) else { return }
        logger.info("REQUEST:INIT-REBOOT from \(request.mac.map { "\($0)" } ?? "?")")
        let source = request.packet
        if let definition = try await retrieveDefinition(&request), definition.ip == requestedIP(source) {
            var reply = request.packet
            reply.transformToAck()
            try answer(&request, with: reply, definition: definition, assignAddress: true, source: source)
        } else {
            nak(&request)
        }
    }

    private func renewOrRebind(_ request: inout Request, renewing: Bool) async throws(Stop) {
        guard try filter(&request) else { return }
        let name = renewing ? "REQUEST:RENEW" : "REQUEST:REBIND"
        logger.info("\(name) from \(request.mac.map { "\($0)" } ?? "?")")
        let configuration = request.configuration
        if configuration.nakRenewals && (renewing || configuration.authoritative) {
            nak(&request)
            return
        }
        let source = request.packet
        let ciaddr = source.ciaddr
        // Replies go to the client's own address (wire.md §7.6).
        let clientAddress = (ciaddr, UInt16(0))
        let definition = try await retrieveDefinition(&request)
        if let definition, definition.ip == ciaddr {
            var reply = request.packet
            reply.transformToAck()
            try answer(&request, with: reply, definition: definition, assignAddress: true, source: source, answerTo: clientAddress)
        } else if definition != nil || configuration.authoritative {
            if renewing {
                nak(&request, answerTo: clientAddress)
            }
        }
    }

    private func inform(_ request: inout Request) async throws(Stop) {
        guard try filter(&request) else { return }
        logger.info("INFORM from \(request.mac.map { "\($0)" } ?? "?")")
        guard request.packet.ciaddr.nonZero != nil else {
            throw .blocklist("ciaddr was not specified")
        }
        let source = request.packet
        guard let definition = try await retrieveDefinition(&request) else {
            throw .blocklist("unknown MAC")
        }
        var reply = request.packet
        reply.transformToAck()
        try answer(&request, with: reply, definition: definition, assignAddress: false, source: source)
    }

    private func decline(_ request: inout Request) async throws(Stop) {
        guard let declined = requestedIP(request.packet) else { throw .blocklist("conflicting IP was not specified") }
        guard let sid = serverIdentifier(request.packet) else { throw .blocklist("server-identifier was not specified") }
        guard sid == request.configuration.serverIP else {
            request.outcome = .notForUs
            return
        }
        guard try filter(&request) else { return }
        let mac = request.mac.map { "\($0)" } ?? "?"
        let definition = try await retrieveDefinition(&request)
        if let definition, definition.ip == declined {
            logger.error("DECLINE from \(mac) for \(declined): another host is using the address assigned in subnet \(definition.subnet), serial \(definition.serial)")
            request.processed = true
            request.outcome = .accepted
        } else if let definition {
            logger.warning("DECLINE from \(mac) for \(declined), but its assigned IP is \(definition.ip)")
        } else {
            logger.warning("DECLINE from \(mac) for \(declined), but the MAC is unknown")
        }
    }

    private func release(_ request: inout Request) async throws(Stop) {
        guard let sid = serverIdentifier(request.packet) else { throw .blocklist("server-identifier was not specified") }
        guard sid == request.configuration.serverIP else {
            request.outcome = .notForUs
            return
        }
        guard try filter(&request) else { return }
        let mac = request.mac.map { "\($0)" } ?? "?"
        let ciaddr = request.packet.ciaddr
        if let definition = try await retrieveDefinition(&request), definition.ip == ciaddr {
            logger.info("RELEASE from \(mac) for \(ciaddr)")
            request.processed = true
            request.outcome = .accepted
        } else {
            logger.warning("RELEASE from \(mac) for \(ciaddr), but no assignment is known")
        }
    }
}
