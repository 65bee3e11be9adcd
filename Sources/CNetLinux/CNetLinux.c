/* The syscall wrappers declared in CNetLinux.h; see there for the contracts. */
#define _GNU_SOURCE 1
#include "CNetLinux.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The largest batch one call accepts; the Swift side asks for fewer. */
#define CNET_MAX_BATCH 64

int cnet_recv_batch_nowait(int fd, uint8_t *slots, size_t slot_size, cnet_datagram_info *infos, unsigned int count) {
    return cnet_recv_batch_flags(fd, slots, slot_size, infos, count, MSG_DONTWAIT);
}

int cnet_recv_batch_flags(int fd, uint8_t *slots, size_t slot_size, cnet_datagram_info *infos, unsigned int count,
                          int flags) {
    if (count > CNET_MAX_BATCH) count = CNET_MAX_BATCH;
    struct mmsghdr messages[CNET_MAX_BATCH];
    struct iovec vectors[CNET_MAX_BATCH];
    struct sockaddr_in sources[CNET_MAX_BATCH];
    /* Room for one in_pktinfo and one timestamp control message per datagram. */
    union {
        char bytes[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } controls[CNET_MAX_BATCH];

    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        vectors[i].iov_base = slots + i * slot_size;
        vectors[i].iov_len = slot_size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
        messages[i].msg_hdr.msg_control = controls[i].bytes;
        messages[i].msg_hdr.msg_controllen = sizeof(controls[i].bytes);
    }
    int received = recvmmsg(fd, messages, count, flags, NULL);
    if (received < 0) return -1;
    for (int i = 0; i < received; i++) {
        cnet_datagram_info *info = &infos[i];
        memset(info, 0, sizeof(*info));
        if (messages[i].msg_hdr.msg_namelen >= sizeof(struct sockaddr_in) && sources[i].sin_family == AF_INET) {
            info->source_ip = ntohl(sources[i].sin_addr.s_addr);
            info->source_port = ntohs(sources[i].sin_port);
        }
        info->length = messages[i].msg_len > slot_size ? (uint32_t)slot_size : messages[i].msg_len;
        info->truncated = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
        for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&messages[i].msg_hdr); cmsg != NULL;
             cmsg = CMSG_NXTHDR(&messages[i].msg_hdr, cmsg)) {
            if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo packet_info;
                memcpy(&packet_info, CMSG_DATA(cmsg), sizeof(packet_info));
                info->destination_ip = ntohl(packet_info.ipi_addr.s_addr);
                info->interface_index = packet_info.ipi_ifindex;
            } else if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec stamp;
                memcpy(&stamp, CMSG_DATA(cmsg), sizeof(stamp));
                info->arrival_ns = (int64_t)stamp.tv_sec * 1000000000 + stamp.tv_nsec;
            }
        }
    }
    return received;
}

long cnet_send_to(int fd, const uint8_t *data, size_t length, uint32_t dest_ip, uint16_t dest_port,
                  uint32_t source_ip, int interface_index) {
    struct sockaddr_in destination;
    memset(&destination, 0, sizeof(destination));
    destination.sin_family = AF_INET;
    destination.sin_addr.s_addr = htonl(dest_ip);
    destination.sin_port = htons(dest_port);

    struct iovec vector = { .iov_base = (void *)data, .iov_len = length };
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_name = &destination;
    message.msg_namelen = sizeof(destination);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;

    union {
        char bytes[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } control;
    if (source_ip != 0 || interface_index != 0) {
        memset(&control, 0, sizeof(control));
        message.msg_control = control.bytes;
        message.msg_controllen = sizeof(control.bytes);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
        cmsg->cmsg_level = IPPROTO_IP;
        cmsg->cmsg_type = IP_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo packet_info;
        memset(&packet_info, 0, sizeof(packet_info));
        packet_info.ipi_ifindex = interface_index;
        packet_info.ipi_spec_dst.s_addr = htonl(source_ip);
        memcpy(CMSG_DATA(cmsg), &packet_info, sizeof(packet_info));
    }
    return (long)sendmsg(fd, &message, 0);
}

int cnet_enable_timestamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
}

int64_t cnet_realtime_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int cnet_enable_pktinfo(int fd) {
    int on = 1;
    return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
}

int cnet_bind_ipv4(int fd, uint32_t ip, uint16_t port) {
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(ip);
    address.sin_port = htons(port);
    return bind(fd, (struct sockaddr *)&address, sizeof(address));
}

int cnet_local_port(int fd) {
    struct sockaddr_in address;
    socklen_t length = sizeof(address);
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return -1;
    return ntohs(address.sin_port);
}

int cnet_interface_owning(uint32_t ip, char *name, size_t name_size) {
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0) return -1;
    int found = -1;
    for (struct ifaddrs *entry = list; entry != NULL; entry = entry->ifa_next) {
        if (entry->ifa_addr == NULL || entry->ifa_addr->sa_family != AF_INET || entry->ifa_name == NULL) continue;
        const struct sockaddr_in *address = (const struct sockaddr_in *)entry->ifa_addr;
        if (ntohl(address->sin_addr.s_addr) != ip) continue;
        /* "eth0:1" is an alias label of eth0; SO_BINDTODEVICE wants the device. */
        size_t length = strcspn(entry->ifa_name, ":");
        if (length >= name_size) length = name_size - 1;
        memcpy(name, entry->ifa_name, length);
        name[length] = '\0';
        found = 0;
        break;
    }
    freeifaddrs(list);
    if (found != 0) errno = ENODEV;
    return found;
}

/* Closes fd and returns -1 with errno set to `error` (close may change errno). */
static int close_failing(int fd, int error) {
    close(fd);
    errno = error;
    return -1;
}

/* An AF_PACKET socket bound to the interface, receiving frames of `protocol` (network order; 0
   receives nothing). */
static int packet_socket_bound(int interface_index, uint16_t protocol) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) return -1;
    struct sockaddr_ll link;
    memset(&link, 0, sizeof(link));
    link.sll_family = AF_PACKET;
    link.sll_protocol = protocol;
    link.sll_ifindex = interface_index;
    if (bind(fd, (struct sockaddr *)&link, sizeof(link)) != 0) return close_failing(fd, errno);
    return fd;
}

int cnet_packet_open_sender(int interface_index, uint8_t *mac_out) {
    int fd = packet_socket_bound(interface_index, 0); /* this socket only sends */
    if (fd < 0) return -1;
    struct sockaddr_ll bound;
    socklen_t length = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &length) != 0) return close_failing(fd, errno);
    if (bound.sll_halen != 6) return close_failing(fd, EAFNOSUPPORT);
    memcpy(mac_out, bound.sll_addr, 6);
    return fd;
}

int cnet_packet_open_listener(int interface_index) {
    return packet_socket_bound(interface_index, htons(ETH_P_ALL));
}

int cnet_enter_netns(int fd) {
    return setns(fd, CLONE_NEWNET);
}

/* epoll and eventfd for the engine's thread (Glibc's Swift module does not export them). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <unistd.h>

int cnet_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cnet_epoll_add(int epoll_fd, int fd) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN;
    event.data.fd = fd;
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int cnet_epoll_interest(int epoll_fd, int fd, int readable, int writable) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
    event.data.fd = fd;
    return epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event);
}

int cnet_epoll_remove(int epoll_fd, int fd) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    return epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, &event);
}

int cnet_epoll_wait(int epoll_fd, int *ready_fds, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epoll_fd, events, capacity, timeout_ms);
    for (int i = 0; i < count; i++) ready_fds[i] = events[i].data.fd;
    return count;
}

int cnet_eventfd_create(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

void cnet_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof(one));
    (void)ignored;
}

void cnet_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof(value));
    (void)ignored;
}

void cnet_name_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

#include <sys/resource.h>
#include <sys/syscall.h>

int cnet_set_thread_nice(int nice_value) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice_value);
}

int cnet_set_thread_realtime(int priority) {
    struct sched_param param = { .sched_priority = priority };
    int policy = (priority > 0 ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK;
    /* Pid 0 is the calling thread for sched_setscheduler on Linux. */
    return sched_setscheduler(0, policy, &param) == 0 ? 0 : errno;
}

int cnet_thread_realtime_priority(void) {
    int policy = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
    if (policy == SCHED_OTHER) return 0;
    if (policy != SCHED_FIFO) return -1;
    struct sched_param param;
    return sched_getparam(0, &param) == 0 ? param.sched_priority : -1;
}
