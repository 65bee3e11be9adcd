#!/usr/bin/env bash
# Real clients against staticdhcpd: busybox udhcpc, ISC dhclient and dhcpcd each obtain the reserved
# address with mask, router, DNS, domain, hostname, NTP and lease time from an SQLite reservation;
# udhcpc renews (unicast) and releases; dhclient releases.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3" || e2e_fail "staticdhcpd db builds the database" "see above"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" 'DHCP_RESPONSE_INTERFACE = "-"'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

echo "udhcpc"
lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease" 0 $?
e2e_assert_env "udhcpc ip" "$lease" ip 192.0.2.10
e2e_assert_env "udhcpc mask" "$lease" subnet 255.255.255.0
e2e_assert_env "udhcpc router" "$lease" router 192.0.2.1
e2e_assert_env "udhcpc dns" "$lease" dns "192.0.2.53 192.0.2.54"
e2e_assert_env "udhcpc domain" "$lease" domain example.org
e2e_assert_env "udhcpc hostname" "$lease" hostname alpha
e2e_assert_env "udhcpc ntp" "$lease" ntpsrv 192.0.2.123
e2e_assert_env "udhcpc lease time" "$lease" lease 3600
e2e_assert_env "udhcpc server id" "$lease" serverid 192.0.2.1

echo "udhcpc renew (unicast) and release"
e2e_client_reset
e2e_udhcpc_start
e2e_assert_status "udhcpc bound" 0 $?
e2e_udhcpc_renew
e2e_assert_status "udhcpc renew" 0 $?
e2e_assert_env "udhcpc renewed lease" "$E2E_TMP/udhcpc.lease" event renew
sd_log_has "the daemon saw a unicast RENEW" "REQUEST:RENEW from $E2E_CLIENT_MAC"
sd_log_has "the RENEW ACK went to the client's address" "ACK sent to $E2E_CLIENT_MAC for 192.0.2.10 via 192.0.2.10:68"
e2e_udhcpc_release
e2e_assert_status "udhcpc release" 0 $?
sleep 0.5
sd_log_has "the daemon accepted the RELEASE" "RELEASE from $E2E_CLIENT_MAC for 192.0.2.10"

echo "dhclient"
e2e_client_reset
lease="$(e2e_dhclient)"
e2e_assert_status "dhclient gets a lease" 0 $?
e2e_assert_env "dhclient ip" "$lease" new_ip_address 192.0.2.10
e2e_assert_env "dhclient mask" "$lease" new_subnet_mask 255.255.255.0
e2e_assert_env "dhclient routers" "$lease" new_routers 192.0.2.1
e2e_assert_env "dhclient dns" "$lease" new_domain_name_servers "192.0.2.53 192.0.2.54"
e2e_assert_env "dhclient domain" "$lease" new_domain_name example.org
e2e_assert_env "dhclient hostname" "$lease" new_host_name alpha
e2e_assert_env "dhclient ntp" "$lease" new_ntp_servers 192.0.2.123
e2e_assert_env "dhclient lease time" "$lease" new_dhcp_lease_time 3600
e2e_dhclient_release
e2e_assert_status "dhclient -r" 0 $?

echo "dhcpcd"
e2e_client_reset
lease="$(e2e_dhcpcd)"
e2e_assert_status "dhcpcd gets a lease" 0 $?
e2e_assert_env "dhcpcd ip" "$lease" new_ip_address 192.0.2.10
e2e_assert_env "dhcpcd mask" "$lease" new_subnet_mask 255.255.255.0
e2e_assert_env "dhcpcd routers" "$lease" new_routers 192.0.2.1
e2e_assert_env "dhcpcd dns" "$lease" new_domain_name_servers "192.0.2.53 192.0.2.54"
e2e_assert_env "dhcpcd domain" "$lease" new_domain_name example.org
e2e_assert_env "dhcpcd lease time" "$lease" new_dhcp_lease_time 3600

e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
