/*
 * The bench's floor: the least a DHCP server can do per exchange in the bench's topology.
 *
 * It answers perfdhcp's relayed DISCOVERs with OFFERs and REQUESTs with ACKs, with no database,
 * no script, no logging and no checks beyond what perfdhcp needs, using the same system calls
 * per packet as staticdhcpd's engine thread: epoll_wait, a recvmmsg batch, one sendmsg per reply
 * to the relay's port 67. Its CPU per exchange is therefore what the kernel charges the server
 * for the exchange on this machine (system calls, the veth pair, waking perfdhcp), plus a few
 * hundred instructions. It is a measuring stick, not a server: it trusts every byte it reads.
 *
 *   floor_responder SERVER_IP [--sendmmsg]
 *
 * With --sendmmsg the replies of one batch leave in one sendmmsg call instead.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define SLOT 1500
#define OPTIONS_AT 240 /* fixed header (236) and magic cookie (4) */

static uint8_t requests[BATCH][SLOT];
static uint8_t replies[BATCH][SLOT];

/* The message type of a request (option 53), or 0. */
static int message_type(const uint8_t *packet, int length) {
    int at = OPTIONS_AT;
    while (at < length) {
        uint8_t code = packet[at];
        if (code == 255) break;
        if (code == 0) { at++; continue; }
        if (at + 1 >= length) break;
        uint8_t size = packet[at + 1];
        if (code == 53 && size == 1 && at + 2 < length) return packet[at + 2];
        at += 2 + size;
    }
    return 0;
}

/* Writes the reply to `request` into `reply` and returns its length, or 0 for no reply. */
static int build_reply(const uint8_t *request, int length, uint8_t *reply, uint32_t server_ip) {
    if (length < OPTIONS_AT) return 0;
    int type = message_type(request, length);
    int answer = type == 1 ? 2 : type == 3 ? 5 : 0; /* DISCOVER -> OFFER, REQUEST -> ACK */
    if (answer == 0) return 0;
    memcpy(reply, request, OPTIONS_AT);
    reply[0] = 2; /* BOOTREPLY */
    memset(reply + 12, 0, 4); /* ciaddr */
    /* yiaddr 203.0.113.(k mod 250 + 1), k from the last two octets of chaddr, as the bench reserves */
    unsigned k = ((unsigned)request[28 + 4] << 8) | request[28 + 5];
    uint8_t yiaddr[4] = {203, 0, 113, (uint8_t)(k % 250 + 1)};
    memcpy(reply + 16, yiaddr, 4);
    int at = OPTIONS_AT;
    uint8_t *o = reply;
    o[at++] = 53; o[at++] = 1; o[at++] = (uint8_t)answer;
    o[at++] = 54; o[at++] = 4; memcpy(o + at, &server_ip, 4); at += 4;
    o[at++] = 51; o[at++] = 4; o[at++] = 0; o[at++] = 0; o[at++] = 0x0e; o[at++] = 0x10; /* 3600 s */
    o[at++] = 1; o[at++] = 4; o[at++] = 255; o[at++] = 255; o[at++] = 255; o[at++] = 0;
    o[at++] = 3; o[at++] = 4; o[at++] = 203; o[at++] = 0; o[at++] = 113; o[at++] = 254;
    o[at++] = 6; o[at++] = 4; o[at++] = 203; o[at++] = 0; o[at++] = 113; o[at++] = 253;
    o[at++] = 255;
    while (at < 300) o[at++] = 0; /* the BOOTP minimum */
    return at;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SERVER_IP [--sendmmsg]\n", argv[0]);
        return 2;
    }
    struct in_addr server;
    if (inet_pton(AF_INET, argv[1], &server) != 1) {
        fprintf(stderr, "floor_responder: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    int use_sendmmsg = argc > 2 && strcmp(argv[2], "--sendmmsg") == 0;

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in bound = {.sin_family = AF_INET, .sin_port = htons(67), .sin_addr = server};
    if (fd < 0 || bind(fd, (struct sockaddr *)&bound, sizeof(bound)) != 0) {
        perror("floor_responder: bind to port 67");
        return 1;
    }
    int epoll_fd = epoll_create1(0);
    struct epoll_event interest = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &interest);

    struct mmsghdr in[BATCH], out[BATCH];
    struct iovec in_vectors[BATCH], out_vectors[BATCH];
    struct sockaddr_in sources[BATCH], destinations[BATCH];
    for (;;) {
        struct epoll_event event;
        if (epoll_wait(epoll_fd, &event, 1, -1) < 0) {
            if (errno == EINTR) continue;
            perror("floor_responder: epoll_wait");
            return 1;
        }
        memset(in, 0, sizeof(in));
        for (int i = 0; i < BATCH; i++) {
            in_vectors[i] = (struct iovec){.iov_base = requests[i], .iov_len = SLOT};
            in[i].msg_hdr.msg_iov = &in_vectors[i];
            in[i].msg_hdr.msg_iovlen = 1;
            in[i].msg_hdr.msg_name = &sources[i];
            in[i].msg_hdr.msg_namelen = sizeof(sources[i]);
        }
        int received = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
        if (received <= 0) continue;
        int pending = 0;
        for (int i = 0; i < received; i++) {
            int length = build_reply(requests[i], (int)in[i].msg_len, replies[pending], server.s_addr);
            if (length == 0) continue;
            destinations[pending] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(67)};
            memcpy(&destinations[pending].sin_addr, requests[i] + 24, 4); /* giaddr: perfdhcp relays */
            out_vectors[pending] = (struct iovec){.iov_base = replies[pending], .iov_len = (size_t)length};
            memset(&out[pending], 0, sizeof(out[pending]));
            out[pending].msg_hdr.msg_iov = &out_vectors[pending];
            out[pending].msg_hdr.msg_iovlen = 1;
            out[pending].msg_hdr.msg_name = &destinations[pending];
            out[pending].msg_hdr.msg_namelen = sizeof(destinations[pending]);
            if (!use_sendmmsg) {
                sendmsg(fd, &out[pending].msg_hdr, 0);
            } else {
                pending++;
            }
        }
        if (pending > 0) sendmmsg(fd, out, (unsigned)pending, 0);
    }
}
