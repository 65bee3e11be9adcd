import DHCPWire
import Databases
import Foundation

/// The reservation set as the HTTP service answers it: one JSON object per MAC.
enum HTTPReservations {
    /// Field spellings vary on purpose (a gateway list as a string or an array, DNS as a comma
    /// string, numbers as JSON numbers), as real services vary.
    static func json(_ definition: Definition, listsAsStrings: Bool = false) -> String {
        var object: [String: Any] = [
            "ip": definition.ip.description,
            "lease_time": Int(definition.leaseTime),
            "subnet": definition.subnet,
            "serial": definition.serial,
        ]
        func list(_ addresses: [IPv4]) -> Any {
            listsAsStrings ? addresses.map(\.description).joined(separator: ", ") : addresses.map(\.description)
        }
        object["hostname"] = definition.hostname ?? NSNull()
        if !definition.gateways.isEmpty { object["gateway"] = list(definition.gateways) }
        if let mask = definition.subnetMask { object["subnet_mask"] = mask.description }
        if let broadcast = definition.broadcastAddress { object["broadcast_address"] = broadcast.description }
        if let domain = definition.domainName { object["domain_name"] = domain }
        if !definition.domainNameServers.isEmpty { object["domain_name_servers"] = list(definition.domainNameServers) }
        if !definition.ntpServers.isEmpty { object["ntp_servers"] = list(definition.ntpServers) }
        if let extra = definition.extra { object["extra"] = extra.mapValues(any) }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    private static func any(_ value: ExtraValue) -> Any {
        switch value {
        case .string(let text): text
        case .integer(let number): number
        case .double(let number): number
        case .bool(let flag): flag
        case .list(let values): values.map(any)
        case .table(let values): values.mapValues(any)
        }
    }

    /// Answers POSTed or GET lookups from `ReservationSet.expected`; 404 for anything else.
    static func handler(macKey: String = "mac") -> @Sendable (StubRequest) -> StubResponse {
        let answers = Dictionary(uniqueKeysWithValues: ReservationSet.expected.map { mac, definition in
            (mac.description, json(definition, listsAsStrings: mac == ReservationSet.beta))
        })
        return { request in
            let mac = request.method == "POST" ? request.jsonObject?[macKey] as? String : request.query[macKey]
            guard let mac, let answer = answers[mac] else { return StubResponse(status: 404, body: "{\"error\": \"unknown\"}") }
            return .json(answer)
        }
    }
}
