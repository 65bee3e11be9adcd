#!/usr/bin/env bash
# The scripting guide's example hooks, written in Python as a migrating site has them
# (Tests/convert-conf/guide-examples.py), converted by scripts/convert-conf and served unchanged:
# the tick logger logs, the lossy filterPacket drops some packets, handleUnknownMAC's Definition
# gives a real client its lease, loadDHCPPacket sets T1 on an address whose last octet is a
# multiple of 3 and randomly NAKs (or drops) REQUESTs for the others.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/scripts/convert-conf" "$root/Tests/convert-conf/guide-examples.py" >"$E2E_TMP/converted.lua"
e2e_assert_status "convert-conf converts the guide's examples" 0 $?
translated="$(grep -c '^function ' "$E2E_TMP/converted.lua")"
e2e_assert_eq "every hook became Lua (init, _tick_logger, filterPacket, handleUnknownMAC, loadDHCPPacket)" 5 "$translated"
"$STATICDHCPD_BIN" --check-config "$E2E_TMP/converted.lua" >"$E2E_TMP/check.out" 2>&1
e2e_assert_status "the converted file passes --check-config" 0 $?

# The test's settings first, then the converted file exactly as convert-conf wrote it.
sd_database "$E2E_TMP/dhcp.sqlite3"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3"
cat "$E2E_TMP/converted.lua" >>"$E2E_TMP/conf.lua"
# 40 requests from one MAC in a few seconds would put it on the misbehaving clients' cooldown.
echo "SUSPEND_THRESHOLD = 1000" >>"$E2E_TMP/conf.lua"
reserved_mac="$E2E_CLIENT_MAC"
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

# handleUnknownMAC answers for aa:bb:cc:dd:ee:ff with 192.0.2.99; 99 is a multiple of 3, so
# loadDHCPPacket sets T1 to 60 s and never drops it. filterPacket drops a fifth of the packets;
# dhclient sends again.
e2e_client_mac aa:bb:cc:dd:ee:ff
lease="$(e2e_dhclient)"
e2e_assert_status "dhclient gets a lease from the translated handleUnknownMAC" 0 $?
e2e_assert_env "address from the Definition" "$lease" new_ip_address 192.0.2.99
e2e_assert_env "host name from the Definition" "$lease" new_host_name guestbox
e2e_assert_env "T1 set by the translated loadDHCPPacket" "$lease" new_dhcp_renewal_time 60
e2e_dhclient_release

# The reserved client's 192.0.2.10 is not a multiple of 3: filterPacket drops a fifth of its
# REQUESTs, loadDHCPPacket NAKs half the rest and drops a tenth of the others. The chance that 40
# requests see no NAK is 0.6^40, below one in a billion.
sd_probe_address
answers="$(sd_probe --mac "$reserved_mac" --type request --requested 192.0.2.10 --count 40 --timeout 0.5)"
e2e_log "40 REQUESTs for 192.0.2.10: $answers"
e2e_assert_contains "some REQUESTs are ACKed" "ACK=" "$answers"
e2e_assert_contains "loadDHCPPacket's random NAK reaches the client" "NAK=" "$answers"
e2e_assert_contains "filterPacket (or loadDHCPPacket) drops some" "NONE=" "$answers"

sleep 2
sd_log_has "the tick handler logs at DEBUG" "Ticked!"
e2e_assert_eq "no hook raised an error" "" "$(grep -E 'ERROR|CRITICAL' "$E2E_TMP/server.log" | head -n 3)"
e2e_finish
