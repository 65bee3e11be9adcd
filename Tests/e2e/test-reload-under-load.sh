#!/usr/bin/env bash
# Hot reload under load (issue: daemon lifecycle): perfdhcp runs through the relay while the test
# sends SIGHUP ten times, alternating a good and a broken conf.lua. Every REQUEST perfdhcp sent
# reaches the daemon and is ACKed (from the daemon's log, so a reply made late by a reload is not
# mistaken for a lost one), each good
# conf.lua's loadDHCPPacket shows up in replies at once, each broken one is rejected with its file
# and line while the previous generation keeps answering, and `staticdhcpd reload` reports both.
# Four of the good ones add or remove PROXY_PORT, so the DHCP sockets are rebound (port 67 taken
# over by a new socket) while perfdhcp's requests keep arriving on it.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v perfdhcp >/dev/null || e2e_skip "perfdhcp (kea-admin) is not installed"
e2e_setup
db="$E2E_TMP/perf.sqlite3"
sd_perf_database "$db" 1000
"$STATICDHCPD_BIN" db subnet add 192.0.2.0/24 --lease-time 3600 --file "$db" >/dev/null
"$STATICDHCPD_BIN" db add "$E2E_CLIENT_MAC" 192.0.2.10 --subnet 192.0.2.0/24 --file "$db" >/dev/null
conf="$E2E_TMP/conf.lua"

write_good() { sd_tagged_conf "$conf" "$db" "$@" "ALLOW_DHCP_RELAYS = true" "ENABLE_SUSPEND = false"; }  # TAG [LUA...]
write_broken() {
    write_good broken
    printf 'function loadDHCPPacket(packet\n  this is not Lua\nend\n' >>"$conf"
}

write_good gen1
e2e_start_staticdhcpd "$conf" || e2e_finish
sd_probe_address
e2e_assert_eq "generation 1 answers" "ACK gen1.example" "$(sd_probe --type request --requested 192.0.2.10 --show-option 15)"

e2e_rly timeout 60 perfdhcp -4 -l "$E2E_RELAY_IP" -R 1000 -b mac=02:00:00:01:00:00 -r 150 -p 14 -d 2 -W 2000000 \
    "$E2E_SERVER_RELAY_IP" >"$E2E_TMP/perfdhcp.log" 2>&1 &
perf=$!
sleep 1
expected="gen1"
for round in 1 2 3 4 5 6 7 8 9 10; do
    if [ $((round % 2)) -eq 1 ]; then
        expected="gen$((round + 1))"
        case $round in
            3 | 7) write_good "$expected" 'PROXY_PORT = 4011' ;;
            *) write_good "$expected" ;;
        esac
        out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
        e2e_assert_status "reload $round (good) succeeds" 0 $?
        e2e_assert_contains "reload $round reports the new generation" "reloaded: generation" "$out"
    else
        write_broken
        out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
        e2e_assert_status "reload $round (broken) is rejected" 1 $?
        e2e_assert_contains "reload $round names file and line" "conf.lua:" "$out"
    fi
    e2e_assert_eq "after reload $round replies come from $expected" "ACK $expected.example" \
        "$(sd_probe --type request --requested 192.0.2.10 --show-option 15)"
    sleep 0.8
done
wait "$perf"
e2e_assert_status "perfdhcp" 0 $?
e2e_parse_perfdhcp "$E2E_TMP/perfdhcp.log"
e2e_assert_ge "REQUESTs perfdhcp sent during the reloads" 1500 "$E2E_PERF_REQUESTS"
# The daemon logs each REQUEST:SELECTING it takes and each ACK it sends (INFO). A datagram lost
# while the sockets were rebound would be missing from the first count; one left unanswered, from
# the second. perfdhcp's clients are 02:00:00:01:*, the probes use another MAC.
requests=0 acks=0 last="" still=0
while [ $still -lt 20 ]; do
    requests="$(grep -c 'REQUEST:SELECTING from 02:00:00:01:' "$E2E_TMP/server.log")"
    acks="$(grep -c 'ACK sent to 02:00:00:01:' "$E2E_TMP/server.log")"
    [ "$acks" -ge "$E2E_PERF_REQUESTS" ] && break
    if [ "$requests $acks" = "$last" ]; then still=$((still + 1)); else still=0; last="$requests $acks"; fi
    sleep 0.5
done
e2e_assert_eq "REQUESTs the daemon received during the reloads (every one perfdhcp sent)" "$E2E_PERF_REQUESTS" "$requests"
e2e_assert_eq "REQUESTs the daemon ACKed during the reloads" "$requests" "$acks"
e2e_assert_ge "ACKs perfdhcp received (>= 95 % of its REQUESTs)" $((E2E_PERF_REQUESTS * 95 / 100)) "${E2E_PERF_EXCHANGES:-0}"
e2e_log "perfdhcp during the reloads: ${E2E_PERF_EXCHANGES:-0} exchanges, ${E2E_PERF_DROPS:-?} drops (replies later than 2 s or missing), ${E2E_PERF_ORPHANS:-?} late replies"
e2e_assert_eq "reloads that rebound the sockets" 4 "$(grep -c 'DHCP sockets rebound' "$E2E_TMP/server.log")"
# A conf.lua with 1,000 more lines of Lua.
write_good big
for i in $(seq 1000); do echo "function _helper$i(value) return (value or 0) + $i end" >>"$conf"; done
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "reload of a 1,000-line conf.lua" 0 $?
e2e_log "measured: 1,000-line conf.lua: $out"
e2e_assert_eq "the big conf.lua answers" "ACK big.example" "$(sd_probe --type request --requested 192.0.2.10 --show-option 15)"
times="$(grep -o 'generation [0-9]* is live ([0-9.]* s)' "$E2E_TMP/server.log" | sed 's/.*(\(.*\) s)/\1/' | sort -n | tr '\n' ' ')"
e2e_log "measured: reload times (SIGHUP to new generation live), seconds: $times"
e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
