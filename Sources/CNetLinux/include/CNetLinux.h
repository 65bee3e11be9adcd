/* Linux packet-socket and batching definitions that Swift's Glibc module does not export.
 *
 * The helpers below wrap the calls whose structures Swift cannot see (recvmmsg's mmsghdr, sendmsg
 * with IP_PKTINFO control data, sockaddr_ll, setns). Every helper returns -1 and leaves errno set on
 * failure, so the Swift side can name the reason. Addresses and ports cross this boundary in host
 * byte order. */
#ifndef CNETLINUX_H
#define CNETLINUX_H

#include <stddef.h>
#include <stdint.h>

static inline int cnet_eth_p_ip(void) { return 0x0800; }
static inline int cnet_eth_p_all(void) { return 0x0003; }
static inline int cnet_af_packet(void) { return 17; }

/* What the kernel told us about one received datagram. */
typedef struct {
    uint32_t source_ip;       /* host order */
    uint16_t source_port;     /* host order */
    uint32_t destination_ip;  /* from IP_PKTINFO (ipi_addr); 0 when absent */
    int32_t interface_index;  /* from IP_PKTINFO; 0 when absent */
    uint32_t length;          /* bytes stored in the slot */
    int32_t truncated;        /* 1 when the datagram was longer than the slot */
    int64_t arrival_ns;       /* when the kernel received it (SO_TIMESTAMPNS, CLOCK_REALTIME); 0 when absent */
} cnet_datagram_info;

/* recvmmsg of up to `count` datagrams into `count` consecutive slots of `slot_size` bytes, without
 * waiting: returns how many were read, or -1 with errno EAGAIN when nothing is queued. */
int cnet_recv_batch_nowait(int fd, uint8_t *slots, size_t slot_size, cnet_datagram_info *infos, unsigned int count);

/* The same with recvmmsg's own flags (0 waits for `count` datagrams, or SO_RCVTIMEO). */
int cnet_recv_batch_flags(int fd, uint8_t *slots, size_t slot_size, cnet_datagram_info *infos, unsigned int count,
                          int flags);

/* sendmsg to dest_ip:dest_port. When source_ip or interface_index is non-zero, an IP_PKTINFO control
 * message pins the source address and the outgoing interface. Returns the bytes sent. */
long cnet_send_to(int fd, const uint8_t *data, size_t length, uint32_t dest_ip, uint16_t dest_port,
                  uint32_t source_ip, int interface_index);

/* Turns on IP_PKTINFO reception. */
int cnet_enable_pktinfo(int fd);

/* Turns on SO_TIMESTAMPNS: each datagram carries the time the kernel received it. */
int cnet_enable_timestamps(int fd);

/* CLOCK_REALTIME in nanoseconds (the clock of SO_TIMESTAMPNS). */
int64_t cnet_realtime_ns(void);

/* Binds a UDP socket to ip:port (host order). */
int cnet_bind_ipv4(int fd, uint32_t ip, uint16_t port);

/* The port a socket is bound to (host order), or -1. */
int cnet_local_port(int fd);

/* Finds the interface owning `ip` (host order) with getifaddrs: writes its name (alias suffix after ':'
 * removed, at most `name_size` - 1 bytes) and returns 0; returns -1 with errno ENODEV when none owns it. */
int cnet_interface_owning(uint32_t ip, char *name, size_t name_size);

/* Opens an AF_PACKET raw socket bound to `interface_index` with protocol 0, so that it receives
 * nothing, and writes the interface's hardware address into mac_out (6 bytes). Returns the fd. */
int cnet_packet_open_sender(int interface_index, uint8_t *mac_out);

/* Opens an AF_PACKET raw socket that receives every frame on `interface_index` (for tests). */
int cnet_packet_open_listener(int interface_index);

/* Enters the network namespace open as `fd` on the calling thread only (setns, CLONE_NEWNET). */
int cnet_enter_netns(int fd);

/* epoll and eventfd for the engine's thread. cnet_epoll_wait stores the ready descriptors. */
int cnet_epoll_create(void);
int cnet_epoll_add(int epoll_fd, int fd);
int cnet_epoll_remove(int epoll_fd, int fd);
/* What a watched fd is watched for: readability, writability, both or (for now) neither. */
int cnet_epoll_interest(int epoll_fd, int fd, int readable, int writable);
int cnet_epoll_wait(int epoll_fd, int *ready_fds, int capacity, int timeout_ms);
int cnet_eventfd_create(void);
void cnet_eventfd_signal(int fd);
void cnet_eventfd_drain(int fd);
/* Names the calling thread (shown by top -H and perf). */
void cnet_name_thread(const char *name);

/* Sets the calling thread's nice value (needs CAP_SYS_NICE to go below 0); -1 on failure. */
int cnet_set_thread_nice(int nice_value);

/* Puts the calling thread under SCHED_FIFO at `priority` (1-99), or back under SCHED_OTHER when
 * `priority` is 0. Processes it starts (io.popen, os.execute) do not inherit the policy
 * (SCHED_RESET_ON_FORK). 0 on success, else the errno value (EPERM without CAP_SYS_NICE or an
 * RLIMIT_RTPRIO that allows it). */
int cnet_set_thread_realtime(int priority);
/* The calling thread's policy: SCHED_FIFO's priority, 0 for SCHED_OTHER, -1 for anything else. */
int cnet_thread_realtime_priority(void);

#endif
