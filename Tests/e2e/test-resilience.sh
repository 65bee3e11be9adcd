#!/usr/bin/env bash
# Bad input never stops the daemon: malformed datagrams, a blocklisted MAC, a hook error and a flood
# from one MAC each leave it serving other clients.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
"$STATICDHCPD_BIN" db add 02:00:00:00:00:02 192.0.2.12 --subnet 192.0.2.0/24 --file "$E2E_TMP/dhcp.sqlite3" >/dev/null
"$STATICDHCPD_BIN" db add 02:00:00:00:00:03 192.0.2.13 --subnet 192.0.2.0/24 --file "$E2E_TMP/dhcp.sqlite3" >/dev/null
"$STATICDHCPD_BIN" db add 02:00:00:00:00:04 192.0.2.14 --subnet 192.0.2.0/24 --file "$E2E_TMP/dhcp.sqlite3" >/dev/null
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" \
    'function filterPacket(packet, method, mac, client_ip, relay_ip, port)' \
    '  if mac == "02:00:00:00:00:03" then return nil end' \
    '  return true' \
    'end' \
    'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
    '  if mac == "02:00:00:00:00:02" then error("deliberate failure for " .. mac) end' \
    '  return true' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
sd_probe_address

echo "malformed datagrams"
# From a MAC of their own: the garbage that still decodes (a cut-off last option is answered)
# counts as that client's requests, and must not suspend the client checked next.
sd_probe --garbage 200 --mac 02:00:00:00:00:99 >/dev/null
e2e_assert_eq "served after 200 malformed datagrams" ACK "$(sd_probe --type request --requested 192.0.2.10)"

echo "a hook error drops only that packet"
e2e_assert_eq "no reply when loadDHCPPacket fails" NONE "$(sd_probe --mac 02:00:00:00:00:02 --type request --requested 192.0.2.12)"
sd_log_has "the Lua error is logged with its source" "deliberate failure for 02:00:00:00:00:02"
e2e_assert_eq "others still served" ACK "$(sd_probe --type request --requested 192.0.2.10)"

echo "filterPacket returning nil blocklists"
e2e_assert_eq "no reply to the filtered MAC" NONE "$(sd_probe --mac 02:00:00:00:00:03 --type discover)"
sd_log_has "blocklisted by filterPacket" "02:00:00:00:00:03 was temporarily blocklisted"
e2e_assert_eq "others still served" ACK "$(sd_probe --type request --requested 192.0.2.10)"

echo "a flood from one MAC"
flood="$(sd_probe --mac 02:00:00:00:00:01 --type request --requested 192.0.2.10 --count 30 --timeout 0.3)"
e2e_assert_contains "the flooding MAC is suspended" "NONE=" "$flood"
sd_log_has "suspension logged" "02:00:00:00:00:01 is issuing too many requests"
e2e_assert_eq "another MAC is still served" OFFER "$(sd_probe --mac 02:00:00:00:00:04 --type discover)"

e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
