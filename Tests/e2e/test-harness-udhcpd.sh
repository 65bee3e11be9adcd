#!/usr/bin/env bash
# Harness self-test: busybox udhcpd serves a static lease in the server namespace, and udhcpc,
# dhclient and dhcpcd each obtain the address, mask, router, DNS, domain and lease time, and
# perfdhcp completes exchanges through the relay path.
# It proves the topology and client helpers of lib.sh without needing staticdhcpd.
set -u
source "$(dirname "$0")/lib.sh"

command -v busybox >/dev/null || e2e_skip "busybox is not installed"
e2e_setup

conf="$E2E_TMP/udhcpd.conf"
cat >"$conf" <<CONF
interface br0
start 192.0.2.100
end 192.0.2.110
max_leases 10
lease_file $E2E_TMP/udhcpd.leases
pidfile $E2E_TMP/udhcpd.pid
static_lease $E2E_CLIENT_MAC 192.0.2.50
option subnet 255.255.255.0
option router 192.0.2.1
option dns 192.0.2.53 192.0.2.54
option domain example.org
option lease 3600
CONF
touch "$E2E_TMP/udhcpd.leases"
e2e_start_server busybox udhcpd -f -a 100 -I "$E2E_SERVER_IP" "$conf" || e2e_finish

echo "udhcpc"
e2e_capture_start
lease="$(e2e_udhcpc)"
udhcpc_status=$?
capture="$(e2e_capture_stop)"
e2e_assert_status "udhcpc" 0 "$udhcpc_status"
# The capture helper sees the replies; busybox udhcpd broadcasts them (a staticdhcpd test expects
# "> $E2E_CLIENT_MAC" here instead: a layer-2 unicast, since udhcpc leaves the broadcast flag clear).
offer="$(grep -m1 'DHCP-Message.*Offer' <<<"$capture")"
e2e_assert_contains "OFFER on the wire" "Client-Ethernet-Address $E2E_CLIENT_MAC" "$offer"
e2e_assert_contains "OFFER on the wire" "> ff:ff:ff:ff:ff:ff" "$offer"
e2e_assert_contains "OFFER on the wire" "192.0.2.1.67 > 255.255.255.255.68" "$offer"
e2e_assert_contains "OFFER on the wire" "Flags [none]" "$offer"
e2e_assert_env "udhcpc" "$lease" ip 192.0.2.50
e2e_assert_env "udhcpc" "$lease" subnet 255.255.255.0
e2e_assert_env "udhcpc" "$lease" router 192.0.2.1
e2e_assert_env "udhcpc" "$lease" dns "192.0.2.53 192.0.2.54"
e2e_assert_env "udhcpc" "$lease" domain example.org
e2e_assert_env "udhcpc" "$lease" lease 3600
e2e_assert_env "udhcpc" "$lease" serverid 192.0.2.1

echo "udhcpc: renew and release"
e2e_client_reset
e2e_udhcpc_start
e2e_assert_status "udhcpc start (lease within 20 s)" 0 $?
e2e_assert_contains "client interface address" "192.0.2.50/24" "$(ip -n "$E2E_CLI_NS" -br addr show dev "$E2E_CLIENT_IF")"
e2e_udhcpc_renew
e2e_assert_status "udhcpc renew" 0 $?
e2e_assert_env "udhcpc renewed lease" "$E2E_TMP/udhcpc.lease" event renew
e2e_udhcpc_release
e2e_assert_status "udhcpc release" 0 $?
e2e_assert_not_contains "client interface after release" "192.0.2.50" "$(ip -n "$E2E_CLI_NS" -br addr show dev "$E2E_CLIENT_IF")"
e2e_udhcpc_stop

echo "dhclient"
e2e_client_reset
lease="$(e2e_dhclient)"
e2e_assert_status "dhclient" 0 $?
e2e_assert_env "dhclient" "$lease" new_ip_address 192.0.2.50
e2e_assert_env "dhclient" "$lease" new_subnet_mask 255.255.255.0
e2e_assert_env "dhclient" "$lease" new_routers 192.0.2.1
e2e_assert_env "dhclient" "$lease" new_domain_name_servers "192.0.2.53 192.0.2.54"
e2e_assert_env "dhclient" "$lease" new_domain_name example.org
e2e_assert_env "dhclient" "$lease" new_dhcp_lease_time 3600
e2e_dhclient_release
e2e_assert_status "dhclient -r" 0 $?
e2e_assert_contains "dhclient events" "BOUND" "$(tr '\n' ' ' <"$E2E_TMP/dhclient/events")"
e2e_assert_contains "dhclient events after -r" "RELEASE" "$(tr '\n' ' ' <"$E2E_TMP/dhclient/events")"

echo "dhcpcd"
e2e_client_reset
lease="$(e2e_dhcpcd)"
e2e_assert_status "dhcpcd" 0 $?
e2e_assert_env "dhcpcd" "$lease" new_ip_address 192.0.2.50
e2e_assert_env "dhcpcd" "$lease" new_subnet_mask 255.255.255.0
e2e_assert_env "dhcpcd" "$lease" new_routers 192.0.2.1
e2e_assert_env "dhcpcd" "$lease" new_domain_name_servers "192.0.2.53 192.0.2.54"
e2e_assert_env "dhcpcd" "$lease" new_domain_name example.org
e2e_assert_env "dhcpcd" "$lease" new_dhcp_lease_time 3600

echo "perfdhcp (relay path, giaddr $E2E_RELAY_IP)"
e2e_perfdhcp 5 5 2
e2e_assert_status "perfdhcp" 0 $?
e2e_assert_ge "perfdhcp REQUEST-ACK exchanges" 5 "$E2E_PERF_EXCHANGES"
e2e_assert_ge "perfdhcp ACKs (>= 95 % of its REQUESTs)" $((E2E_PERF_REQUESTS * 95 / 100)) "$E2E_PERF_EXCHANGES"
e2e_log "perfdhcp: ${E2E_PERF_REQUESTS} REQUESTs, ${E2E_PERF_DROPS} drops (late or missing replies), ${E2E_PERF_ORPHANS} late"
e2e_assert_contains "perfdhcp rate line" "exchanges/second" "$E2E_PERF_RATE"

e2e_assert_ge "server CPU ticks readable from /proc" 0 "$(e2e_server_cpu_ticks)"
e2e_assert_eq "udhcpd still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
