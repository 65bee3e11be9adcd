#!/usr/bin/env bash
# ISC dhclient and dhcpcd renew by unicast and release: conf.lua's loadDHCPPacket sets T1/T2
# (options 58 and 59, always sent) to a few seconds, so each client renews on its own; the daemon
# must see REQUEST:RENEW from the client's address and ACK it, then the RELEASE.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" \
    'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
    '  packet:setOption("renewal_time_value", 3)' \
    '  packet:setOption("rebinding_time_value", 20)' \
    '  return true' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

renews() { grep -c "REQUEST:RENEW from $E2E_CLIENT_MAC" "$E2E_TMP/server.log" || true; }
releases() { grep -c "RELEASE from $E2E_CLIENT_MAC for 192.0.2.10" "$E2E_TMP/server.log" || true; }

echo "dhclient"
lease="$(e2e_dhclient)"
e2e_assert_status "dhclient gets a lease" 0 $?
e2e_assert_env "dhclient ip" "$lease" new_ip_address 192.0.2.10
e2e_assert_env "dhclient T1 from loadDHCPPacket" "$lease" new_dhcp_renewal_time 3
before="$(renews)"
for _ in $(seq 60); do [ "$(renews)" -gt "$before" ] && grep -q RENEW "$E2E_TMP/dhclient/events" && break; sleep 0.2; done
e2e_assert_contains "dhclient renewed" "RENEW" "$(tr '\n' ' ' <"$E2E_TMP/dhclient/events")"
e2e_assert_ge "the daemon saw dhclient's unicast RENEW" $((before + 1)) "$(renews)"
e2e_dhclient_release
e2e_assert_status "dhclient -r" 0 $?
sleep 0.5
e2e_assert_ge "the daemon accepted dhclient's RELEASE" 1 "$(releases)"

echo "dhcpcd"
e2e_client_reset
dir="$E2E_TMP/dhcpcd"
e2e_dhcpcd >/dev/null   # writes its configuration and hook, and gets a first lease
e2e_assert_env "dhcpcd ip" "$dir/lease.env" new_ip_address 192.0.2.10
e2e_client_reset
rm -f "$dir/events"
# With `release`, dhcpcd sends a DHCPRELEASE when it stops.
echo release >>"$dir/dhcpcd.conf"
before="$(renews)"
released="$(releases)"
e2e_cli timeout 30 unshare -m --propagation private sh -c '
    mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib &&
    mkdir -p /run/dhcpcd /var/lib/dhcpcd && exec "$@"' dhcpcd \
    dhcpcd -f "$dir/dhcpcd.conf" -c "$dir/hook.sh" -B -4 -t 20 "$E2E_CLIENT_IF" >"$dir/log-renew" 2>&1 &
client=$!
for _ in $(seq 100); do grep -q RENEW "$dir/events" 2>/dev/null && break; sleep 0.2; done
e2e_assert_contains "dhcpcd renewed" "RENEW" "$(tr '\n' ' ' <"$dir/events" 2>/dev/null)"
e2e_assert_ge "the daemon saw dhcpcd's unicast RENEW" $((before + 1)) "$(renews)"
for pid in $(ip netns pids "$E2E_CLI_NS"); do
    [ "$(cat /proc/$pid/comm 2>/dev/null)" = dhcpcd ] && kill -TERM "$pid" 2>/dev/null
done
for _ in $(seq 25); do [ "$(releases)" -gt "$released" ] && break; sleep 0.2; done
e2e_assert_ge "the daemon accepted dhcpcd's RELEASE" $((released + 1)) "$(releases)"
wait "$client" 2>/dev/null
e2e_finish
