import Foundation
import Hummingbird

/// `/api/subnets` and `/api/subnets/<subnet>?serial=N` (serial 0 when omitted; the label may contain
/// its slash as is, e.g. `/api/subnets/192.0.2.0/24`). Same rules as the reservations API: reads for
/// anyone allowed to see the page, writes only with digest credentials configured and a JSON body.
extension APIRoutes {
    static let subnetFields = "a subnet object (subnet, serial, leaseTime, gateway, subnetMask, broadcastAddress, ntpServers, domainNameServers, domainName)"

    func subnets(_ request: IncomingRequest, subnet label: String?) async -> Reply {
        guard let store = state.reservations else {
            return .jsonError("subnets can be edited only with an SQL database engine", status: .notFound)
        }
        do {
            switch (request.method, label) {
            case (.get, nil), (.head, nil):
                return .json(try await store.listSubnets())
            case (.post, nil):
                guard passesCSRF(request) else { return csrfRefusal }
                guard state.authenticator != nil else { return writesNeedAuthentication }
                let input = try decode(SubnetInput.self, from: request, what: Self.subnetFields)
                guard let label = input.subnet else { throw ReservationInputError("the subnet object needs a \"subnet\" label") }
                let record = try SubnetValidation.validated(input, subnet: label, serial: input.serial ?? 0)
                try await store.addSubnet(record)
                return .json(record, status: .created)
            case (let method, let label?):
                let key = try SubnetValidation.label(label)
                let serial = try SubnetsElement.serial(request.firstQuery("serial") ?? "0")
                return try await subnet(request, method: method, key: key, serial: serial, store: store)
            default:
                return .jsonError("method not allowed", status: .methodNotAllowed)
            }
        } catch {
            return storeFailure(error, in: "subnet API", store: "reservation store")
        }
    }

    private func subnet(
        _ request: IncomingRequest, method: HTTPRequest.Method, key: String, serial: Int, store: any ReservationStore
    ) async throws -> Reply {
        let notFound = Reply.jsonError("no subnet \(key) serial \(serial)", status: .notFound)
        switch method {
        case .get, .head:
            guard let found = try await store.listSubnets().first(where: { $0.subnet == key && $0.serial == serial }) else { return notFound }
            return .json(found)
        case .put:
            guard passesCSRF(request) else { return csrfRefusal }
            guard state.authenticator != nil else { return writesNeedAuthentication }
            let input = try decode(SubnetInput.self, from: request, what: Self.subnetFields)
            if let label = input.subnet, label.trimmingCharacters(in: .whitespaces) != key {
                throw ReservationInputError("the body names subnet \"\(label)\" but the URL names \"\(key)\"; a subnet's label cannot change (add a new subnet instead)")
            }
            if let bodySerial = input.serial, bodySerial != serial {
                throw ReservationInputError("the body names serial \(bodySerial) but the URL names serial \(serial); a subnet's serial cannot change")
            }
            guard try await store.listSubnets().contains(where: { $0.subnet == key && $0.serial == serial }) else { return notFound }
            let record = try SubnetValidation.validated(input, subnet: key, serial: serial)
            try await store.updateSubnet(record)
            return .json(record)
        case .delete:
            // No CSRF check, as for reservations: DELETE needs a CORS preflight cross-site.
            guard state.authenticator != nil else { return writesNeedAuthentication }
            guard try await store.removeSubnet(subnet: key, serial: serial) else { return notFound }
            return Reply(status: .noContent, contentType: "application/json", body: [])
        default:
            return .jsonError("method not allowed", status: .methodNotAllowed)
        }
    }
}
