/* Linux packet-socket and batching definitions that Swift's Glibc module does not export. */
#ifndef CNETLINUX_H
#define CNETLINUX_H

#define _GNU_SOURCE 1
#include <sys/socket.h>
#include <netpacket/packet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>

static inline int cnet_eth_p_ip(void) { return ETH_P_IP; }
static inline int cnet_eth_p_all(void) { return ETH_P_ALL; }
static inline int cnet_af_packet(void) { return AF_PACKET; }

#endif
