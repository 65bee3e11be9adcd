#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNetLinux
import DHCPModel
import DHCPWire

/// Reads datagrams from one socket in `recvmmsg` batches, copying each out and handing it to a
/// callback; it never decodes. Owned by one thread at a time (it reuses its buffers): the event
/// loop that polls the socket (the engine's thread, DHCPService), which calls `read` when epoll
/// reports the socket readable, and never waits in it.
public final class DatagramReader: @unchecked Sendable {
    public let fd: Int32
    public let localPort: UInt16
    let isProxy: Bool
    let batch: Int
    let slotSize: Int
    let owner: DHCPSockets
    private var slots: [UInt8]
    private var infos: [cnet_datagram_info]
    private var consecutiveErrors = 0
    private var shedder = BacklogShedder()
    /// Stale datagrams dropped since the last warning, and when that was (CLOCK_REALTIME ns).
    private var staleSinceWarning = 0
    private var lastStaleWarning: Int64 = 0

    init(fd: Int32, localPort: UInt16, isProxy: Bool, batch: Int, slotSize: Int, owner: DHCPSockets) {
        self.fd = fd
        self.localPort = localPort
        self.isProxy = isProxy
        self.batch = batch
        self.slotSize = slotSize
        self.owner = owner
        slots = [UInt8](repeating: 0, count: batch * slotSize)
        infos = [cnet_datagram_info](repeating: cnet_datagram_info(), count: batch)
    }

    /// One batch: up to `batch` datagrams, each delivered in arrival order. Returns how many
    /// datagrams were read, 0 when none was queued, and -1 when the sockets are stopping or the
    /// socket is unusable (closed): the caller should stop reading it.
    @discardableResult
    public func read(_ deliver: (Datagram) -> Void) -> Int {
        if owner.isStopping { return -1 }
        let (batch, slotSize, fd) = (self.batch, self.slotSize, self.fd)
        let count = slots.withUnsafeMutableBufferPointer { slotBytes in
            infos.withUnsafeMutableBufferPointer { infoSlots in
                cnet_recv_batch_nowait(fd, slotBytes.baseAddress, slotSize, infoSlots.baseAddress, UInt32(batch))
            }
        }
        // After shutdown() recvmmsg returns empty datagrams at once; the flag tells them from real ones.
        if owner.isStopping { return -1 }
        guard count >= 0 else {
            let code = errno
            if code == EINTR || code == EAGAIN || code == EWOULDBLOCK { return 0 }
            owner.countReceiveError()
            consecutiveErrors += 1
            owner.logger.error("receive failed on port \(localPort): \(SystemCall.reason(code))")
            if code == EBADF || code == ENOTSOCK { return -1 }
            // Back off so that a persistent error cannot spin a core.
            if consecutiveErrors > 3 { usleep(100_000) }
            return 0
        }
        consecutiveErrors = 0
        var delivered = 0
        let now = cnet_realtime_ns()
        for index in 0..<Int(count) {
            let info = infos[index]
            if info.truncated != 0 {
                owner.countTruncated()
                owner.logger.debug("dropped a datagram longer than \(slotSize) bytes from \(IPv4(info.source_ip))")
                continue
            }
            guard info.length > 0 else { continue }
            guard shedder.admits(age: info.arrival_ns > 0 ? now - info.arrival_ns : nil) else {
                dropStale()
                continue
            }
            let start = index * slotSize
            let datagram = Datagram(
                bytes: Array(slots[start..<(start + Int(info.length))]),
                sourceIP: IPv4(info.source_ip), sourcePort: info.source_port, localPort: localPort,
                arrivedOnProxy: isProxy, interfaceIndex: info.interface_index,
                destinationIP: IPv4(info.destination_ip)
            )
            delivered += 1
            deliver(datagram)
        }
        owner.countReceived(delivered)
        if staleSinceWarning > 0 && now - lastStaleWarning >= Self.staleWarningInterval { warnStale(now: now) }
        return Int(count)
    }

    /// Warnings about stale datagrams come at most once per this interval, with a count.
    static let staleWarningInterval: Int64 = 10_000_000_000

    private func dropStale() {
        owner.countStale()
        staleSinceWarning += 1
    }

    private func warnStale(now: Int64) {
        let seconds = lastStaleWarning == 0 ? "" : " in the last \((now - lastStaleWarning) / 1_000_000_000) s"
        owner.logger.warning("Overloaded: \(staleSinceWarning) requests on port \(localPort) waited over \(BacklogShedder.overloadedAge / 1_000_000) ms in the receive buffer and were dropped unanswered\(seconds), so that fresh ones are answered in time; their clients will retry")
        staleSinceWarning = 0
        lastStaleWarning = now
    }
}
