import Databases
import DHCPModel
import DHCPWire
import Logging

/// Why a request stopped before its natural end.
enum Stop: Error {
    /// Put the MAC on the temporary blocklist (docs/PROTOCOL.md §1.4), with the reason for the log.
    case blocklist(String)
    case hook(HookError)
    case database(any Error)
    /// A hook waits on a round trip; the request parks until it finishes, then its stage runs again.
    case suspended(any SuspendedHook)
}

extension DHCPEngine {
    /// Drops a request that cannot be read: counted as malformed, logged at debug, traced. False.
    private func dropMalformed(_ request: inout Request, _ message: @autoclosure () -> Logger.Message, trace: @autoclosure () -> String) -> Bool {
        request.outcome = .malformed
        counters.malformed += 1
        logger.debug(message())
        request.trace?.drop(trace())
        return false
    }

    /// The first steps of the chain: decode, classify, source policy, abuse check. Returns true
    /// when the request goes on to its method's rules (`advance`).
    func beginRequest(_ request: inout Request) -> Bool {
        do {
            request.packet = try DHCPPacket(decoding: request.datagram.bytes)
        } catch {
            let (sourceIP, sourcePort) = (request.datagram.sourceIP, request.datagram.sourcePort)
            return dropMalformed(&request, "Dropped a datagram from \(sourceIP):\(sourcePort) that is not DHCP: \(error)",
                                 trace: "not a DHCP packet: \(error)")
        }
        if let truncated = request.packet.truncatedOption {
            // Answered all the same, as the peers do (docs/PROTOCOL.md §6 item 17); counted so a
            // client or relay that keeps sending such packets shows in /metrics.
            counters.truncatedOptions += 1
            logger.debug("Datagram from \(request.datagram.sourceIP):\(request.datagram.sourcePort) was cut off: \(truncated); the options before it are used")
        }
        guard let method = request.packet.requestMethod(sourceIP: request.datagram.sourceIP) else {
            request.counted = false
            request.trace?.drop("no handler for this message type")
            return false
        }
        request.method = method
        let mac: MAC
        do {
            mac = try request.packet.hardwareAddress()
        } catch {
            return dropMalformed(&request, "Dropped a \(method.name) with an unusable hardware address: \(error)",
                                 trace: "unusable hardware address: \(error)")
        }
        request.mac = mac
        let giaddr = request.packet.giaddr.nonZero
        logger.debug("\(method.name) from \(mac) received on port \(request.datagram.localPort)")

        // Source policy: neither blocklists nor counts (docs/PROTOCOL.md §1.1).
        if let relay = giaddr {
            if !request.configuration.allowDHCPRelays {
                reject(&request, "\(method.name) from \(mac) via relay \(relay) dropped: relay support is not enabled (ALLOW_DHCP_RELAYS)")
                return false
            }
            if !request.configuration.allowedDHCPRelays.isEmpty && !request.configuration.allowedDHCPRelays.contains(relay) {
                reject(&request, "\(method.name) from \(mac) via relay \(relay) dropped: relay not authorised (ALLOWED_DHCP_RELAYS)")
                return false
            }
        } else if !request.configuration.allowLocalDHCP {
            reject(&request, "\(method.name) from \(mac) dropped: local DHCP is not allowed (ALLOW_LOCAL_DHCP)")
            return false
        }

        request.trace?.note("source policy", giaddr.map { "relay \($0) accepted" } ?? "local request accepted")

        let verdict = abuse.admit(mac)
        counters.abuseEvictions = abuse.evictions
        switch verdict {
        case .accept:
            request.trace?.note("blocklist and flood check", "not blocklisted")
        case .ignored(let remaining):
            request.outcome = .blocklisted
            logger.debug("\(mac) is on cooldown for another \(remaining) seconds")
            request.trace?.drop("\(mac) is blocklisted for another \(remaining) seconds")
            return false
        case .suspended(let seconds):
            request.outcome = .suspended
            logger.warning("\(mac) is issuing too many requests; ignoring for \(seconds) seconds")
            request.trace?.drop("\(mac) is issuing too many requests; ignored for \(seconds) seconds")
            return false
        }

        request.context = RequestContext(
            method: method.name, mac: mac, clientIP: clientIP(for: method, request.packet),
            relayIP: giaddr, port: request.datagram.localPort, requestID: request.id
        )
        return true
    }

    /// The method's rules up to the point where they need the client's definition. Returns
    /// true when the request needs a lookup, false when it is finished (answered or dropped).
    func prepare(_ request: inout Request) throws(Stop) -> Bool {
        guard let method = request.method else { return false }
        return try prepareRules(for: method, &request) == .needsDefinition
    }

    /// The database's answer (or failure), counted; `lookupTime` is nil when the answer was
    /// remembered from this exchange's OFFER (`OfferMemo`), not looked up. Then `decide`.
    func record(_ request: inout Request, lookup: Result<[Definition], any Error>, lookupTime: Duration?) throws(Stop) {
        switch lookup {
        case .success(let found):
            request.found = found
            if let trace = request.trace {
                let source = lookupTime == nil ? "the answer behind this exchange's OFFER" : request.generation.database.engineName
                trace.note("database", "\(source): \(Self.describe(found))")
            }
            if let lookupTime {
                counters.databaseTime += lookupTime.seconds
                counters.databaseLookups += 1
            } else {
                counters.rememberedOffers += 1
            }
            request.stage = .decide
        case .failure(let error):
            throw .database(error)
        }
    }

    /// The second half: the database's answer through `handleUnknownMAC` and
    /// `filterRetrievedDefinitions` into the method's rules and the reply. Run again, with the
    /// hooks' remembered answers, when one of them suspended.
    func decide(_ request: inout Request) throws(Stop) {
        guard let method = request.method else { return }
        let definition = try chooseDefinition(request.found ?? [], &request)
        try concludeRules(for: method, &request, definition: definition)
        if !request.processed && request.outcome == .ignored {
            logger.debug("Discarded \(method.name) from \(request.macText)")
            request.trace?.drop("no rule of \(method.name) answers it with this definition")
        }
    }

    /// How a request that stopped early is counted and logged.
    func stopped(_ request: inout Request, _ stop: Stop) {
        let method = request.method?.name ?? "?"
        let mac = request.mac.map { "\($0)" } ?? "?"
        switch stop {
        case .blocklist(let reason):
            if let address = request.mac {
                abuse.blocklist(address)
                counters.abuseEvictions = abuse.evictions
            }
            request.outcome = .blocklisted
            logger.warning("\(mac) was temporarily blocklisted for \(abuse.configuration.unauthorizedTimeout) seconds following \(method): \(reason)")
            request.trace?.drop("blocklisted for \(abuse.configuration.unauthorizedTimeout) seconds: \(reason)")
        case .hook(let hookError):
            request.outcome = .hookError
            counters.hookErrors += 1
            // CRITICAL, so EMAIL_ENABLED sites hear of a broken script; once per interval per
            // distinct error, so a hook failing on every packet is one record (and one mail) a
            // minute, not one per packet. The script's file:line leads (docs/SCRIPTING.md, "Hooks").
            request.trace?.drop("a hook failed: \(hookError)")
            let (log, suppressed) = repeatedErrors.admit(hookError.description, now: .now)
            if log {
                let earlier = suppressed > 0 ? " (\(suppressed) more requests were dropped with this error in the last \(repeatedErrors.interval.components.seconds) s)" : ""
                logger.critical("\(hookError.location.map { "\($0): " } ?? "")\(method) from \(mac) dropped: \(hookError)\(earlier)")
            }
        case .database(let databaseError):
            request.outcome = .databaseError
            counters.databaseErrors += 1
            request.trace?.drop("database lookup failed: \(databaseError)")
            if let schema = databaseError as? DatabaseError, schema.isSchemaError {
                // A configuration error, not an outage: once per generation, at CRITICAL (mailed
                // where SMTP is set), then only at debug.
                if reportedSchemaErrors.insert(schema.description).inserted {
                    logger.critical("\(method) from \(mac) dropped, and every lookup will be until this is fixed: \(schema)")
                } else {
                    logger.debug("\(method) from \(mac) dropped: \(schema)")
                }
            } else {
                logger.error("\(method) from \(mac) dropped: database lookup failed: \(databaseError)")
            }
        case .suspended:
            break // not a stop: the engine parks the request (`DHCPEngine.parkHook`)
        }
    }

    private func reject(_ request: inout Request, _ message: String) {
        request.outcome = .policy
        logger.warning("\(message)")
        request.trace?.drop(message)
    }

    /// The `client_ip` scripts see (docs/PROTOCOL.md §1.3): DISCOVER never sees option 50.
    private func clientIP(for method: RequestMethod, _ packet: DHCPPacket) -> IPv4? {
        switch method {
        case .discover: nil
        case .inform, .release: packet.ciaddr.nonZero
        default: requestedIP(packet)
        }
    }

    /// A database or hook answer as the trace shows it.
    static func describe(_ definitions: [Definition]) -> String {
        switch definitions.count {
        case 0: "no definition (unknown MAC)"
        case 1: "1 definition: \(definitions[0].ip) in subnet \(definitions[0].subnet), serial \(definitions[0].serial)"
        default: "\(definitions.count) definitions: " + definitions.map { "\($0.ip)" }.joined(separator: ", ")
        }
    }

    /// Both read the address in place: copying the option into an array first took 2-3 % of the
    /// daemon's CPU under perfdhcp (docs/BENCHMARK.md, session 16).
    func requestedIP(_ packet: DHCPPacket) -> IPv4? {
        packet.ipv4Option(OptionCode.requestedIP)
    }

    func serverIdentifier(_ packet: DHCPPacket) -> IPv4? {
        packet.ipv4Option(OptionCode.serverIdentifier)
    }

    // MARK: steps shared by the rules

    /// One hook call: the answer it gave before it suspended, when the stage runs again after the
    /// wait (`HookMemo`), or else the hook itself, its time counted. A raised error stops the
    /// request (`.hook`); a hook that waits on a round trip parks it (`.suspended`).
    func runHook<Value>(
        _ name: String, remembered: Value?, trace: DecisionTrace?, _ call: () throws(HookError) -> HookStep<Value>
    ) throws(Stop) -> Value {
        if let remembered { return remembered }
        let started = ContinuousClock.now
        defer { counters.hookRan(since: started) }
        let step: HookStep<Value>
        do {
            step = try call()
        } catch {
            trace?.note(name, "raised an error")
            throw .hook(error)
        }
        switch step {
        case .finished(let value): return value
        case .suspended(let hook): throw .suspended(hook)
        }
    }

    /// `filterPacket`: true goes on; false drops; nil drops and blocklists. Returns whether to go on.
    func filter(_ request: inout Request) throws(Stop) -> Bool {
        let hooks = request.generation.hooks
        guard hooks.hasFilterPacket, let context = request.context else {
            request.trace?.note("filterPacket", "not defined in conf.lua")
            return true
        }
        let verdict = try runHook("filterPacket", remembered: request.memo.verdict, trace: request.trace) { () throws(HookError) in
            try hooks.filterPacket(&request.packet, context)
        }
        request.trace?.note("filterPacket", verdict == .accept ? "true: go on" : verdict == .drop ? "false: drop" : "nil: drop and blocklist")
        switch verdict {
        case .accept: return true
        case .drop:
            request.outcome = .filtered
            request.trace?.drop("filterPacket() returned false")
            return false
        case .blocklist:
            throw .blocklist("filterPacket() returned nil")
        }
    }

    /// After the database: `handleUnknownMAC` when it knew nothing, `filterRetrievedDefinitions`
    /// when it knew several.
    func chooseDefinition(_ found: [Definition], _ request: inout Request) throws(Stop) -> Definition? {
        guard let context = request.context else { return nil }
        let hooks = request.generation.hooks
        var definitions = found
        if definitions.isEmpty && hooks.hasHandleUnknownMAC {
            definitions = try runHook("handleUnknownMAC", remembered: request.memo.unknown, trace: request.trace) { () throws(HookError) in
                try hooks.handleUnknownMAC(&request.packet, context)
            }
            request.trace?.note("handleUnknownMAC", Self.describe(definitions))
        } else if definitions.isEmpty {
            request.trace?.note("handleUnknownMAC", "not defined in conf.lua")
        }
        let chosen: Definition?
        switch definitions.count {
        case 0: chosen = nil
        case 1: chosen = definitions[0]
        default:
            chosen = try runHook("filterRetrievedDefinitions", remembered: request.memo.chosen, trace: request.trace) { () throws(HookError) in
                try hooks.filterRetrievedDefinitions(definitions, &request.packet, context)
            }
            request.trace?.note("filterRetrievedDefinitions", chosen.map { "chose \($0.ip) (subnet \($0.subnet), serial \($0.serial))" } ?? "chose none")
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
        let hooks = request.generation.hooks
        if let remembered = request.memo.load {
            // loadDHCPPacket suspended on this reply and has finished with it.
            reply = remembered.reply
        } else {
            ReplyBuilder.populate(&reply, from: definition, assignAddress: assignAddress)
        }
        if hooks.hasLoadDHCPPacket, let context = request.context {
            let keep = try runHook("loadDHCPPacket", remembered: request.memo.load?.keep, trace: request.trace) { () throws(HookError) in
                try hooks.loadDHCPPacket(&reply, context, definition: definition, source: source)
            }
            request.trace?.note("loadDHCPPacket", keep ? "true: send the reply" : "false: drop the reply")
            guard keep else {
                request.trace?.drop("loadDHCPPacket() returned false")
                request.outcome = .filtered
                logger.info("Ignoring \(context.method) from \(context.mac) per loadDHCPPacket()")
                return
            }
        } else {
            request.trace?.note("loadDHCPPacket", "not defined in conf.lua")
        }
        send(&request, reply, answerTo: answerTo)
    }

    /// A NAK: no `loadDHCPPacket`, as the original (docs/PROTOCOL.md §1.3).
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
            arrivedOnProxy: request.datagram.arrivedOnProxy
        )
        do {
            let destination = try sender.send(outgoing)
            counters.repliesSent += 1
            request.processed = true
            request.outcome = .replied
            request.replyType = typeName
            request.trace?.replied(outgoing, destination: destination.description)
            if logger.logLevel <= .info {
                // Built by appending: this line is written for every reply, and interpolating
                // optionals through closures cost more than sending the reply's datagram.
                var line = typeName
                line.reserveCapacity(120)
                line += " sent to "
                line += request.macText
                line += " for "
                line += reply.yiaddr.nonZero?.description ?? "<nil>"
                line += " via "
                line += destination.description
                logger.info("\(line)")
            }
        } catch {
            counters.sendErrors += 1
            request.trace?.drop("sending \(typeName) failed: \(error)")
            logger.error("Sending \(typeName) to \(request.macText) failed: \(error)")
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
