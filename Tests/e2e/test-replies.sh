#!/usr/bin/env bash
# Reply behaviour: a client without the broadcast bit gets a layer-2 unicast OFFER; an unknown MAC
# gets nothing (and a NAK when AUTHORITATIVE); an INIT-REBOOT for a wrong address gets a NAK.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v tcpdump >/dev/null || e2e_skip "tcpdump is not installed"
e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3"
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

echo "layer-2 unicast OFFER to a client without the broadcast bit"
e2e_cli tcpdump -i "$E2E_CLIENT_IF" -e -n -l -c 2 'udp src port 67' >"$E2E_TMP/tcpdump.log" 2>/dev/null &
dump=$!
sleep 1
lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease" 0 $?
sleep 0.5
kill "$dump" 2>/dev/null; wait "$dump" 2>/dev/null
offer="$(head -n 1 "$E2E_TMP/tcpdump.log")"
e2e_assert_contains "OFFER sent to the client's MAC" "> $E2E_CLIENT_MAC" "$offer"
e2e_assert_contains "OFFER sent to the offered address" "> 192.0.2.10.68" "$offer"
e2e_assert_not_contains "OFFER not broadcast" "ff:ff:ff:ff:ff:ff" "$offer"

echo "INIT-REBOOT for a wrong address"
e2e_client_reset
sd_probe_address
e2e_assert_eq "NAK for 192.0.2.99" NAK "$(sd_probe --type request --requested 192.0.2.99)"
e2e_assert_eq "ACK for the reserved 192.0.2.10" ACK "$(sd_probe --type request --requested 192.0.2.10)"

echo "unknown MAC, not authoritative"
e2e_assert_eq "no reply to an unknown MAC" NONE "$(sd_probe --mac 02:00:00:00:00:99 --type discover)"
sd_log_has "unknown MAC blocklisted" "02:00:00:00:00:99 was temporarily blocklisted"
e2e_stop_server

echo "unknown MAC, authoritative"
sd_conf "$E2E_TMP/conf-auth.lua" "$E2E_TMP/dhcp.sqlite3" "AUTHORITATIVE = true"
e2e_start_staticdhcpd "$E2E_TMP/conf-auth.lua" || e2e_finish
e2e_assert_eq "NAK to an unknown MAC" NAK "$(sd_probe --mac 02:00:00:00:00:98 --type discover)"
e2e_finish
