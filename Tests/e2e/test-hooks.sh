#!/usr/bin/env bash
# A loadDHCPPacket hook in conf.lua shapes what the real client receives; handleUnknownMAC answers
# for a MAC the database does not know.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" \
    'function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)' \
    '  if mac == "02:00:00:00:00:42" then' \
    '    return Definition{ip = "192.0.2.42", lease_time = 600, subnet = "192.0.2.0/24", serial = 0,' \
    '                      subnet_mask = "255.255.255.0", gateways = "192.0.2.1"}' \
    '  end' \
    'end' \
    'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
    '  packet:setOption("domain_name", "hooked.example")' \
    '  if ipToList(definition.ip)[4] % 3 == 0 then packet:setOption("renewal_time_value", 60) end' \
    '  return true' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease" 0 $?
e2e_assert_env "reserved address" "$lease" ip 192.0.2.10
e2e_assert_env "domain set by loadDHCPPacket" "$lease" domain hooked.example

e2e_client_reset
e2e_client_mac 02:00:00:00:00:42
lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease from handleUnknownMAC" 0 $?
e2e_assert_env "address from handleUnknownMAC" "$lease" ip 192.0.2.42
e2e_assert_env "lease time from handleUnknownMAC" "$lease" lease 600
e2e_finish
