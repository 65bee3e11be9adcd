#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNetLinux
import DHCPWire

/// The body of one receive thread: blocking `recvmmsg` batches, each datagram copied out and handed
/// to the callback. It never decodes.
struct ReceiveLoop: Sendable {
    let fd: Int32
    let localPort: UInt16
    let isProxy: Bool
    let batch: Int
    let slotSize: Int
    let owner: DHCPSockets
    let onDatagram: @Sendable (InboundDatagram) -> Void

    func run() {
        var slots = [UInt8](repeating: 0, count: batch * slotSize)
        var infos = [cnet_datagram_info](repeating: cnet_datagram_info(), count: batch)
        var consecutiveErrors = 0
        while !owner.isStopping {
            let count = slots.withUnsafeMutableBufferPointer { slotBytes in
                infos.withUnsafeMutableBufferPointer { infoSlots in
                    cnet_recv_batch(fd, slotBytes.baseAddress, slotSize, infoSlots.baseAddress, UInt32(batch))
                }
            }
            // shutdown() wakes recvmmsg with empty datagrams; the flag tells them from real ones.
            if owner.isStopping { break }
            guard count >= 0 else {
                let code = errno
                if code == EINTR { continue }
                owner.countReceiveError()
                consecutiveErrors += 1
                owner.logger.error("receive failed on port \(localPort): \(SystemCall.reason(code))")
                if code == EBADF || code == ENOTSOCK { break }
                // Back off so that a persistent error cannot spin a core.
                if consecutiveErrors > 3 { usleep(100_000) }
                continue
            }
            consecutiveErrors = 0
            var delivered = 0
            for index in 0..<Int(count) {
                let info = infos[index]
                if info.truncated != 0 {
                    owner.countTruncated()
                    owner.logger.debug("dropped a datagram longer than \(slotSize) bytes from \(IPv4(info.source_ip))")
                    continue
                }
                guard info.length > 0 else { continue }
                let start = index * slotSize
                let datagram = InboundDatagram(
                    bytes: Array(slots[start..<(start + Int(info.length))]),
                    sourceIP: IPv4(info.source_ip), sourcePort: info.source_port, localPort: localPort,
                    arrivedOnProxy: isProxy, interfaceIndex: info.interface_index,
                    destinationIP: IPv4(info.destination_ip)
                )
                delivered += 1
                onDatagram(datagram)
            }
            owner.countReceived(delivered)
        }
    }
}

/// Starts a joinable POSIX thread running `body`.
enum ThreadStarter {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping @Sendable () -> Void) throws(NetworkError) -> pthread_t {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            throw NetworkError.socketSetup("starting a receive thread: \(SystemCall.reason(result))")
        }
        return thread
    }
}
