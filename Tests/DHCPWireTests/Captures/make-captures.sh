#!/usr/bin/env bash
# Regenerates the *.hex captures in this folder: real DHCP clients send DISCOVERs across a veth
# pair between two network namespaces (RFC 5737 addresses only), tcpdump records them on the server
# side, and tshark extracts each DHCP payload as hex. Nothing answers, so only the first packet of
# each client is kept. Run as root; the namespaces are deleted on exit.
set -euo pipefail
source "$(dirname "$0")/../../../scripts/lib/common.sh"
ensure_packages busybox isc-dhcp-client dhcpcd-base kea-admin iproute2 ethtool tcpdump tshark

out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
srv="wirecap-srv-$$"
cli="wirecap-cli-$$"
cleanup() {
    ip netns del "$srv" 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$srv"
ip netns add "$cli"
ip link add vs0 netns "$srv" type veth peer vc0 netns "$cli"
ip link add vs1 netns "$srv" type veth peer vc1 netns "$cli"
ip -n "$srv" addr add 192.0.2.1/24 dev vs0
ip -n "$srv" addr add 198.51.100.1/24 dev vs1
ip -n "$cli" addr add 198.51.100.2/24 dev vc1
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set vs0 up
ip -n "$srv" link set vs1 up
ip -n "$cli" link set vc1 up
ip netns exec "$cli" ethtool -K vc0 tx off >/dev/null 2>&1 || true

# capture NAME MAC COMMAND...: brings vc0 up with MAC, records port 67 on the server side while
# COMMAND runs, and writes the first DHCP payload to NAME.hex.
capture() {
    local name="$1" mac="$2" interface="$3"
    shift 3
    ip -n "$cli" link set vc0 down
    ip -n "$cli" link set vc0 address "$mac"
    ip -n "$cli" link set vc0 up
    ip netns exec "$srv" tcpdump -i "$interface" -U -w "$work/$name.pcap" udp port 67 >/dev/null 2>&1 &
    local dumper=$!
    sleep 1
    ip netns exec "$cli" "$@" >/dev/null 2>&1 || true
    sleep 1
    kill "$dumper"
    wait "$dumper" 2>/dev/null || true
    tshark -r "$work/$name.pcap" -Y "dhcp" -T fields -e udp.payload 2>/dev/null | head -n 1 \
        | fold -w 64 > "$out/$name.hex"
    [ -s "$out/$name.hex" ] || { echo "error: no DHCP packet from $name" >&2; exit 1; }
    echo "captured $name ($(tr -d '\n' < "$out/$name.hex" | wc -c | awk '{print $1 / 2}') bytes)"
}

capture udhcpc-discover 02:00:00:00:00:01 vs0 \
    timeout 5 busybox udhcpc -i vc0 -f -q -n -t 1 -T 2 -s /bin/true -x hostname:client1 -O ntpsrv -V wiretest

cat > "$work/dhclient.conf" <<'CONF'
send host-name "client2";
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name, ntp-servers;
CONF
capture dhclient-discover 02:00:00:00:00:02 vs0 \
    timeout 4 dhclient -4 -1 -d -lf "$work/dhclient.leases" -pf "$work/dhclient.pid" -sf /bin/true -cf "$work/dhclient.conf" vc0

cat > "$work/dhcpcd.conf" <<'CONF'
hostname client3
option ntp_servers
noarp
CONF
capture dhcpcd-discover 02:00:00:00:00:03 vs0 \
    unshare -m sh -c "mount -t tmpfs none /run && mkdir -p /run/dhcpcd && mount -t tmpfs none /var/lib && mkdir -p /var/lib/dhcpcd && timeout 4 dhcpcd -4 -B -1 -f $work/dhcpcd.conf vc0"

capture perfdhcp-relayed-discover 02:00:00:00:00:04 vs1 \
    timeout 4 perfdhcp -4 -l 198.51.100.2 -R 1 -b mac=02:00:00:01:00:00 -r 1 -n 1 -p 2 198.51.100.1
