import Databases
import DHCPWire
import Logging

/// Why a request stopped before its natural end.
enum Stop: Error {
    /// Put the MAC on the temporary blocklist (server.md §3), with the reason for the log.
    case blocklist(String)
    case hook(HookError)
    case database(any Error)
}

extension DHCPEngine {
    /// Decode, classify, check source policy and abuse, then run the method's rules.
    func process(_ request: inout Request) async {
        do {
            request.packet = try DHCPPacket(decoding: request.datagram.bytes)
        } catch {
            request.outcome = .malformed
            counters.malformed += 1
            logger.debug("Dropped a datagram from \(request.datagram.sourceIP):\(request.datagram.sourcePort) that is not DHCP: \(error)")
            return
        }
        guard let method = request.packet.requestMethod(sourceIP: request.datagram.sourceIP) else {
            request.counted = false
            return
        }
        request.method = method
        let mac: MAC
        do {
            mac = try request.packet.hardwareAddress()
        } catch {
            request.outcome = .malformed
            counters.malformed += 1
            logger.debug("Dropped a \(method.name) with an unusable hardware address: \(error)")
            return
        }
        request.mac = mac
        let packet = request.packet
        let giaddr = packet.giaddr.nonZero
        logger.debug("\(method.name) from \(mac) received on port \(request.datagram.localPort)")

        // Source policy: neither blocklists nor counts (server.md §2.1 4b).
        if let relay = giaddr {
            if !request.configuration.allowDHCPRelays {
                return reject(&request, "\(method.name) from \(mac) via relay \(relay) dropped: relay support is not enabled (ALLOW_DHCP_RELAYS)")
            }
            if !request.configuration.allowedDHCPRelays.isEmpty && !request.configuration.allowedDHCPRelays.contains(relay) {
                return reject(&request, "\(method.name) from \(mac) via relay \(relay) dropped: relay not authorised (ALLOWED_DHCP_RELAYS)")
            }
        } else if !request.configuration.allowLocalDHCP {
            return reject(&request, "\(method.name) from \(mac) dropped: local DHCP is not allowed (ALLOW_LOCAL_DHCP)")
        }

        switch abuse.admit(mac) {
        case .accept:
            break
        case .ignored(let remaining):
            request.outcome = .blocklisted
            logger.debug("\(mac) is on cooldown for another \(remaining) seconds")
            return
        case .suspended(let seconds):
            request.outcome = .suspended
            logger.warning("\(mac) is issuing too many requests; ignoring for \(seconds) seconds")
            return
        }

        request.context = RequestContext(
            method: method.name, mac: mac, clientIP: clientIP(for: method, packet),
            relayIP: giaddr, port: request.datagram.localPort, requestID: request.id
        )
        do {
            try await runRules(for: method, &request)
        } catch {
            switch error {
            case .blocklist(let reason):
                abuse.blocklist(mac)
                request.outcome = .blocklisted
                logger.warning("\(mac) was temporarily blocklisted for \(abuse.configuration.unauthorizedTimeout) seconds following \(method.name): \(reason)")
            case .hook(let hookError):
                request.outcome = .hookError
                counters.hookErrors += 1
                logger.error("\(method.name) from \(mac) dropped: \(hookError)")
            case .database(let databaseError):
                request.outcome = .databaseError
                counters.databaseErrors += 1
                logger.error("\(method.name) from \(mac) dropped: database lookup failed: \(databaseError)")
            }
        }
        if !request.processed && request.outcome == .ignored {
            logger.debug("Discarded \(method.name) from \(mac)")
        }
    }

    private func reject(_ request: inout Request, _ message: String) {
        request.outcome = .policy
        logger.warning("\(message)")
    }

    /// The `client_ip` scripts see (server.md §2.3): DISCOVER never sees option 50.
    private func clientIP(for method: RequestMethod, _ packet: DHCPPacket) -> IPv4? {
        switch method {
        case .discover: nil
        case .inform, .release: packet.ciaddr.nonZero
        default: requestedIP(packet)
        }
    }

    func requestedIP(_ packet: DHCPPacket) -> IPv4? {
        guard let bytes = packet.option(OptionCode.requestedIP), let ip = try? IPv4(bytes: bytes) else { return nil }
        return ip.nonZero
    }

    func serverIdentifier(_ packet: DHCPPacket) -> IPv4? {
        guard let bytes = packet.option(OptionCode.serverIdentifier), let ip = try? IPv4(bytes: bytes) else { return nil }
        return ip.nonZero
    }

    // MARK: steps shared by the rules

    /// `filterPacket`: true goes on; false drops; nil drops and blocklists. Returns whether to go on.
    func filter(_ request: inout Request) throws(Stop) -> Bool {
        let hooks = request.generation.hooks
        guard hooks.hasFilterPacket, let context = request.context else { return true }
        let started = ContinuousClock.now
        let verdict = hooks.filterPacket(&request.packet, context)
        counters.hookTime += (ContinuousClock.now - started).seconds
        switch verdict {
        case .accept: return true
        case .drop:
            request.outcome = .filtered
            return false
        case .blocklist:
            throw .blocklist("filterPacket() returned nil")
        }
    }

    /// The lookup chain: database, then `handleUnknownMAC`, then `filterRetrievedDefinitions`.
    func retrieveDefinition(_ request: inout Request) async throws(Stop) -> Definition? {
        guard let context = request.context else { return nil }
        let generation = request.generation
        var definitions: [Definition]
        let started = ContinuousClock.now
        do {
            definitions = try await generation.database.lookupMAC(context.mac)
        } catch {
            throw .database(error)
        }
        counters.databaseTime += (ContinuousClock.now - started).seconds
        counters.databaseLookups += 1
        if definitions.isEmpty && generation.hooks.hasHandleUnknownMAC {
            do {
                definitions = try generation.hooks.handleUnknownMAC(&request.packet, context)
            } catch {
                throw .hook(error)
            }
        }
        let chosen: Definition?
        switch definitions.count {
        case 0: chosen = nil
        case 1: chosen = definitions[0]
        default:
            do {
                chosen = try generation.hooks.filterRetrievedDefinitions(definitions, &request.packet, context)
            } catch {
                throw .hook(error)
            }
        }
        request.definition = chosen
        return chosen
    }

    /// Populates `reply` from `definition`, runs `loadDHCPPacket`, finishes and sends it.
    func answer(
        _ request: inout Request, with reply: consuming DHCPPacket, definition: Definition,
        assignAddress: Bool, source: DHCPPacket, answerTo: (IPv4, UInt16)? = nil
    ) throws(Stop) {
        var reply = reply
        ReplyBuilder.populate(&reply, from: definition, assignAddress: assignAddress)
        let hooks = request.generation.hooks
        if hooks.hasLoadDHCPPacket, let context = request.context {
            let started = ContinuousClock.now
            let keep: Bool
            do {
                keep = try hooks.loadDHCPPacket(&reply, context, definition: definition, source: source)
            } catch {
                throw .hook(error)
            }
            counters.hookTime += (ContinuousClock.now - started).seconds
            guard keep else {
                request.outcome = .filtered
                logger.info("Ignoring \(context.method) from \(context.mac) per loadDHCPPacket()")
                return
            }
        }
        send(&request, reply, answerTo: answerTo)
    }

    /// A NAK: no `loadDHCPPacket`, as the original (server.md §2.2).
    func nak(_ request: inout Request, answerTo: (IPv4, UInt16)? = nil) {
        var reply = request.packet
        reply.transformToNak()
        send(&request, reply, answerTo: answerTo)
    }

    private func send(_ request: inout Request, _ reply: consuming DHCPPacket, answerTo: (IPv4, UInt16)?) {
        var reply = reply
        ReplyBuilder.finish(&reply, serverIP: request.configuration.serverIP)
        let target = answerTo ?? (request.datagram.sourceIP, request.datagram.sourcePort)
        let typeName = reply.messageType?.shortName ?? "reply"
        let outgoing = OutgoingReply(
            packet: reply, answerIP: target.0, answerPort: target.1,
            arrivedOnProxy: request.configuration.proxyPort == request.datagram.localPort
        )
        do {
            let destination = try sender.send(outgoing)
            counters.repliesSent += 1
            request.processed = true
            request.outcome = .replied
            logger.info("\(typeName) sent to \(request.mac.map { "\($0)" } ?? "?") for \(reply.yiaddr.nonZero.map { "\($0)" } ?? "<nil>") via \(destination)")
        } catch {
            counters.sendErrors += 1
            logger.error("Sending \(typeName) to \(request.mac.map { "\($0)" } ?? "?") failed: \(error)")
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
