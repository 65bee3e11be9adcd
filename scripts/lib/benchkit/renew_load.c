/*
 * Renewal load for the pools bench (pools.py): DHCPREQUESTs in the RENEWING state, as perfdhcp's
 * own renewals (-f) are built, but for leases the bench put in the store beforehand, so that a
 * run is renewals only. perfdhcp cannot do that: it renews only leases it acquired in the same
 * run, and at most at its DORA rate (-f <= -r), so its renewals always come mixed with as many
 * new allocations.
 *
 * Each request: BOOTREQUEST, hops 1, ciaddr = the lease's address, giaddr = LOCAL_IP (a relay, as
 * perfdhcp -4 always is), chaddr = the lease's MAC, option 53 = 3 (REQUEST), option 61 =
 * 01:<mac>, option 55 as perfdhcp's; no server identifier and no requested address (RFC 2131
 * 4.3.2, RENEWING). It is sent from LOCAL_IP:67 to SERVER_IP:67 and the server answers to the
 * relay's port 67.
 *
 *   renew_load LOCAL_IP SERVER_IP LEASES RATE SECONDS [FIRST [WAIT_MS]]
 *
 * LEASES: one "MAC IP" per line. Requests go out at RATE per second for SECONDS, taking the
 * leases in turn from line FIRST (default 0), cycling; then it waits WAIT_MS (default 300) for
 * replies still in flight. A request with no reply by then is lost. Prints one line:
 *
 *   renew_load: sent S acked A naked N unanswered U late L p50_ms X p99_ms Y elapsed E
 *
 * (late: replies that came after the 1 s perfdhcp would wait (-d 1), counted as lost as well).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET 300
#define DROP_SECONDS 1.0

struct lease {
    uint8_t mac[6];
    struct in_addr ip;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int read_leases(const char *path, struct lease **out) {
    FILE *file = fopen(path, "r");
    if (!file) {
        perror("renew_load: leases");
        return -1;
    }
    int count = 0, capacity = 1024;
    struct lease *leases = malloc(sizeof(*leases) * (size_t)capacity);
    char mac[64], ip[64];
    while (fscanf(file, "%63s %63s", mac, ip) == 2) {
        unsigned m[6];
        if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
            fprintf(stderr, "renew_load: '%s' is not a MAC\n", mac);
            return -1;
        }
        if (count == capacity) {
            capacity *= 2;
            leases = realloc(leases, sizeof(*leases) * (size_t)capacity);
        }
        for (int i = 0; i < 6; i++) leases[count].mac[i] = (uint8_t)m[i];
        if (inet_pton(AF_INET, ip, &leases[count].ip) != 1) {
            fprintf(stderr, "renew_load: '%s' is not an IPv4 address\n", ip);
            return -1;
        }
        count++;
    }
    fclose(file);
    *out = leases;
    return count;
}

static void build(uint8_t *p, const struct lease *lease, uint32_t xid, struct in_addr relay) {
    memset(p, 0, PACKET);
    p[0] = 1; p[1] = 1; p[2] = 6; p[3] = 1; /* BOOTREQUEST, Ethernet, hlen 6, hops 1 (relayed) */
    uint32_t x = htonl(xid);
    memcpy(p + 4, &x, 4);
    memcpy(p + 12, &lease->ip, 4);   /* ciaddr */
    memcpy(p + 24, &relay, 4);       /* giaddr */
    memcpy(p + 28, lease->mac, 6);   /* chaddr */
    static const uint8_t magic[4] = {99, 130, 83, 99};
    memcpy(p + 236, magic, 4);
    int at = 240;
    p[at++] = 53; p[at++] = 1; p[at++] = 3;
    p[at++] = 61; p[at++] = 7; p[at++] = 1;
    memcpy(p + at, lease->mac, 6); at += 6;
    static const uint8_t wanted[7] = {1, 28, 2, 3, 15, 6, 12};
    p[at++] = 55; p[at++] = 7;
    memcpy(p + at, wanted, 7); at += 7;
    p[at] = 255;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s LOCAL_IP SERVER_IP LEASES RATE SECONDS [FIRST [WAIT_MS]]\n", argv[0]);
        return 2;
    }
    struct in_addr local, server;
    if (inet_pton(AF_INET, argv[1], &local) != 1 || inet_pton(AF_INET, argv[2], &server) != 1) {
        fprintf(stderr, "renew_load: bad address\n");
        return 2;
    }
    struct lease *leases = NULL;
    int count = read_leases(argv[3], &leases);
    if (count <= 0) {
        fprintf(stderr, "renew_load: no leases in %s\n", argv[3]);
        return 2;
    }
    double rate = atof(argv[4]), seconds = atof(argv[5]);
    long first = argc > 6 ? atol(argv[6]) : 0;
    double wait = (argc > 7 ? atof(argv[7]) : 300.0) / 1000.0;
    if (rate <= 0 || seconds <= 0 || first < 0) {
        fprintf(stderr, "renew_load: RATE and SECONDS must be above 0, FIRST at least 0\n");
        return 2;
    }
    long total = (long)(rate * seconds);
    double *sent_at = calloc((size_t)total + 1, sizeof(double));
    double *latency = calloc((size_t)total + 1, sizeof(double));
    uint8_t *answered = calloc((size_t)total + 1, 1);
    if (!sent_at || !latency || !answered) return 1;

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in bound = {.sin_family = AF_INET, .sin_port = htons(67), .sin_addr = local};
    if (fd < 0 || bind(fd, (struct sockaddr *)&bound, sizeof(bound)) != 0) {
        perror("renew_load: bind to port 67");
        return 1;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(67), .sin_addr = server};
    /* Transaction ids: a random base plus the request's number, so a reply names its request. */
    srand((unsigned)(now() * 1e6) ^ (unsigned)getpid());
    uint32_t base = ((uint32_t)rand() << 16) ^ (uint32_t)rand();

    uint8_t packet[PACKET], reply[1500];
    long sent = 0, acked = 0, naked = 0, late = 0, answered_count = 0;
    int latencies = 0;
    double start = now(), end = start + seconds;
    for (;;) {
        double t = now();
        if (t >= end + wait) break;
        if (t < end) {
            long due = (long)((t - start) * rate);
            if (due > total) due = total;
            while (sent < due) {
                build(packet, &leases[(first + sent) % count], base + (uint32_t)sent, local);
                if (sendto(fd, packet, PACKET, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
                    if (errno == EAGAIN || errno == ENOBUFS) break; /* counted as not sent: retried next turn */
                    perror("renew_load: sendto");
                    return 1;
                }
                sent_at[sent] = now();
                sent++;
            }
        }
        struct pollfd readable = {.fd = fd, .events = POLLIN};
        poll(&readable, 1, 1);
        for (;;) {
            ssize_t length = recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
            if (length < 0) break;
            if (length < 244 || reply[0] != 2) continue;
            uint32_t xid;
            memcpy(&xid, reply + 4, 4);
            uint32_t index = ntohl(xid) - base;
            if (index >= (uint32_t)sent || answered[index]) continue;
            int type = 0;
            for (int at = 240; at + 2 < length && reply[at] != 255;) {
                if (reply[at] == 0) { at++; continue; }
                if (reply[at] == 53 && reply[at + 1] == 1) { type = reply[at + 2]; break; }
                at += 2 + reply[at + 1];
            }
            if (type != 5 && type != 6) continue;
            answered[index] = 1;
            answered_count++;
            double took = now() - sent_at[index];
            if (took > DROP_SECONDS) {
                late++;
                continue;
            }
            if (type == 5) {
                acked++;
                latency[latencies++] = took * 1000.0;
            } else {
                naked++;
            }
        }
    }
    double elapsed = now() - start;
    qsort(latency, (size_t)latencies, sizeof(double), compare);
    double p50 = latencies ? latency[(latencies - 1) / 2] : 0.0;
    double p99 = latencies ? latency[(long)(latencies * 0.99) < latencies ? (long)(latencies * 0.99) : latencies - 1] : 0.0;
    printf("renew_load: sent %ld acked %ld naked %ld unanswered %ld late %ld p50_ms %.3f p99_ms %.3f elapsed %.3f\n",
           sent, acked, naked, sent - answered_count, late, p50, p99, elapsed);
    return 0;
}
