#!/usr/bin/env bash
# A reload that changes the DHCP socket settings rebinds the sockets without a restart: a new
# DHCP_SERVER_PORT is served and the old port is released; a new DHCP_SERVER_IP (renumbering)
# answers from the new address with the new server identifier. Settings whose sockets cannot be
# bound (an address no interface owns, a port another process holds) are rejected, naming why, and
# the running sockets keep serving.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

sd_reload_setup

# write_conf TAG [LUA...]: a conf.lua whose replies carry domain name TAG.example, plus extra lines.
write_conf() { sd_tagged_conf "$conf" "$db" "$@"; }

# ask SERVER PORT: the reply to a REQUEST for the client's reservation sent to SERVER:PORT.
ask() {
    sd_probe --server "$1" --port "$2" --type request --requested 192.0.2.10 --show-option 15 --show-server --timeout 1
}

reload() { "$STATICDHCPD_BIN" reload --config "$conf" 2>&1; }

listening() { e2e_srv ss -Hlun "sport = :$1" | grep -q . && echo yes || echo no; }

write_conf gen1
e2e_start_staticdhcpd "$conf" || e2e_finish
sd_probe_address
e2e_assert_eq "generation 1 on port 67" "ACK gen1.example from 192.0.2.1 server-id 192.0.2.1" "$(ask 192.0.2.1 67)"

write_conf gen2 'DHCP_SERVER_PORT = 1067'
out="$(reload)"
e2e_assert_status "reload to DHCP_SERVER_PORT 1067" 0 $?
e2e_assert_eq "generation 2 on port 1067" "ACK gen2.example from 192.0.2.1 server-id 192.0.2.1" "$(ask 192.0.2.1 1067)"
e2e_assert_eq "port 67 no longer answers" "NONE" "$(ask 192.0.2.1 67)"
e2e_assert_eq "port 67 released" no "$(listening 67)"
sd_log_has "the log says the sockets were rebound" "DHCP sockets rebound; now serving on 192.0.2.1:1067"

e2e_srv ip addr add 192.0.2.2/24 dev br0
write_conf gen3 'DHCP_SERVER_IP = "192.0.2.2"'
out="$(reload)"
e2e_assert_status "reload to DHCP_SERVER_IP 192.0.2.2" 0 $?
e2e_assert_eq "generation 3 answers from the new address" "ACK gen3.example from 192.0.2.2 server-id 192.0.2.2" "$(ask 192.0.2.2 67)"
e2e_assert_eq "port 1067 released" no "$(listening 1067)"

write_conf bad 'DHCP_SERVER_IP = "203.0.113.9"'
out="$(reload)"
e2e_assert_status "reload to an address no interface owns" 1 $?
e2e_assert_contains "the rejection names the address" "203.0.113.9" "$out"
e2e_log "$out"
e2e_assert_eq "after it generation 3 still answers" "ACK gen3.example from 192.0.2.2 server-id 192.0.2.2" "$(ask 192.0.2.2 67)"

sd_hold_port udp 0.0.0.0 2067
write_conf bad 'DHCP_SERVER_IP = "192.0.2.2"' 'DHCP_SERVER_PORT = 2067'
out="$(reload)"
e2e_assert_status "reload to a port another process holds" 1 $?
e2e_assert_contains "the rejection names the port" "2067" "$out"
e2e_log "$out"
e2e_assert_eq "after it generation 3 still answers" "ACK gen3.example from 192.0.2.2 server-id 192.0.2.2" "$(ask 192.0.2.2 67)"
kill "$SD_HOLDER_PID" 2>/dev/null

e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
