#!/usr/bin/env bash
# `staticdhcpd reload` finds a daemon whose conf.lua sets no PID_FILE: the daemon keeps its pid in
# STATE_DIRECTORY (staticdhcpd.pid), and reload reads STATE_DIRECTORY from conf.lua, even from a
# broken conf.lua that it then reports as rejected. The file goes away when the daemon stops.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

sd_reload_setup
state="$E2E_TMP/daemon-state"

# write_conf TAG [LUA...]: no PID_FILE; STATE_DIRECTORY relative to conf.lua.
write_conf() {
    sd_tagged_conf "$conf" "$db" "$@" 'STATE_DIRECTORY = "daemon-state"'
    sed -i '/^PID_FILE/d' "$conf"
}

domain() { sd_probe --type request --requested 192.0.2.10 --show-option 15; }

write_conf gen1
e2e_assert_eq "conf.lua sets no PID_FILE" 0 "$(grep -c PID_FILE "$conf")"
e2e_start_staticdhcpd "$conf" || e2e_finish
sd_probe_address
e2e_assert_eq "generation 1 answers" "ACK gen1.example" "$(domain)"
e2e_assert_eq "the daemon's pid is kept in STATE_DIRECTORY" "$E2E_SERVER_PID" "$(cat "$state/staticdhcpd.pid" 2>/dev/null)"

write_conf gen2
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "reload without PID_FILE" 0 $?
e2e_assert_contains "reload reports the new generation" "reloaded: generation 2" "$out"
e2e_assert_eq "generation 2 answers" "ACK gen2.example" "$(domain)"

write_conf broken
printf 'function loadDHCPPacket(packet\n  this is not Lua\nend\n' >>"$conf"
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "reload of a broken conf.lua without PID_FILE is rejected" 1 $?
e2e_assert_contains "the rejection names file and line" "conf.lua:" "$out"
e2e_assert_eq "generation 2 still answers" "ACK gen2.example" "$(domain)"

e2e_stop_server
e2e_assert_eq "the pid file is removed at shutdown" no "$([ -e "$state/staticdhcpd.pid" ] && echo yes || echo no)"
e2e_finish
