#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNetLinux
import DHCPWire

/// Small wrappers that turn failed system calls into `NetworkError`s naming the reason.
enum SystemCall {
    /// "EADDRINUSE (Address already in use)" for the current errno, or the given one.
    static func reason(_ code: Int32 = errno) -> String {
        let names: [Int32: String] = [
            EADDRINUSE: "EADDRINUSE", EACCES: "EACCES", EPERM: "EPERM", EADDRNOTAVAIL: "EADDRNOTAVAIL",
            ENODEV: "ENODEV", EINVAL: "EINVAL", ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH",
            EMSGSIZE: "EMSGSIZE", ENOBUFS: "ENOBUFS", EAGAIN: "EAGAIN", EBADF: "EBADF", ENXIO: "ENXIO",
            EAFNOSUPPORT: "EAFNOSUPPORT", EMFILE: "EMFILE", ENFILE: "ENFILE", ENETDOWN: "ENETDOWN",
        ]
        let text = String(cString: strerror(code))
        return "\(names[code] ?? "errno \(code)") (\(text))"
    }

    /// Runs `call`; throws `socketSetup("<what>: <reason>")` when it returns a negative value.
    @discardableResult
    static func check(_ what: @autoclosure () -> String, _ result: Int32) throws(NetworkError) -> Int32 {
        guard result >= 0 else { throw NetworkError.socketSetup("\(what()): \(reason())") }
        return result
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ what: String) throws(NetworkError) {
        var value = value
        let result = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        try check("setting \(what)", result)
    }

    static func bindToDevice(_ fd: Int32, _ interface: String) throws(NetworkError) {
        let result = interface.withCString { name in
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
        }
        try check("binding to device \(interface) (SO_BINDTODEVICE)", result)
    }

    static func interfaceOwning(_ address: IPv4) throws(NetworkError) -> String {
        var name = [CChar](repeating: 0, count: Int(IFNAMSIZ) + 1)
        let result = cnet_interface_owning(address.value, &name, name.count)
        guard result == 0 else {
            throw NetworkError.socketSetup("no network interface owns DHCP_SERVER_IP \(address) (\(reason()))")
        }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func interfaceIndex(_ interface: String) throws(NetworkError) -> Int32 {
        let index = if_nametoindex(interface)
        guard index != 0 else {
            throw NetworkError.socketSetup("network interface \(interface) does not exist (\(reason()))")
        }
        return Int32(index)
    }

    /// A UDP socket with SO_REUSEADDR, SO_BROADCAST and IP_PKTINFO, bound to 0.0.0.0:`port`.
    static func openUDP(port: UInt16, device: String?, dontRoute: Bool, receiveBufferBytes: Int?) throws(NetworkError) -> Int32 {
        let label = "0.0.0.0:\(port)" + (device.map { " on \($0)" } ?? "")
        let fd = try check("opening a UDP socket for \(label)", socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0))
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR on \(label)")
            try setOption(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST on \(label)")
            if dontRoute { try setOption(fd, SOL_SOCKET, SO_DONTROUTE, 1, "SO_DONTROUTE on \(label)") }
            try check("setting IP_PKTINFO on \(label)", cnet_enable_pktinfo(fd))
            // The kernel's arrival time lets the reader drop requests that waited too long (BacklogShedder).
            try check("setting SO_TIMESTAMPNS on \(label)", cnet_enable_timestamps(fd))
            if let bytes = receiveBufferBytes {
                // SO_RCVBUFFORCE (root) may exceed net.core.rmem_max, which silently caps SO_RCVBUF;
                // a deep buffer absorbs bursts while the engine catches up.
                var value = Int32(clamping: bytes)
                if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    try setOption(fd, SOL_SOCKET, SO_RCVBUF, value, "SO_RCVBUF on \(label)")
                }
            }
            if let device { try bindToDevice(fd, device) }
            try check("binding UDP \(label)", cnet_bind_ipv4(fd, 0, port))
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    static func localPort(_ fd: Int32) -> UInt16 {
        let port = cnet_local_port(fd)
        return port < 0 ? 0 : UInt16(port)
    }
}
