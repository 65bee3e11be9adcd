#!/usr/bin/env bash
# Recovery from overload (docs/ARCHITECTURE.md, "Overload"): perfdhcp offers twice the clean rate
# for 10 s, then the clean rate. Within 2 s of the overload's end the daemon answers in time again:
# of the exchanges perfdhcp starts after that, under 1 % are lost. Before the daemon dropped
# requests that had waited too long in its receive buffer, the backlog left by the overload kept
# every later reply about a second late for as long as the test ran.
#
# The daemon's capacity is set by the test, not by the build or the host: a loadDHCPPacket hook
# spends HOOK_MS of CPU per reply, so an exchange (OFFER and ACK) costs at least 2 x HOOK_MS and the
# daemon cannot exceed 1000 / (2 x HOOK_MS) exchanges/s (62/s at 8 ms). The clean rate is set well
# below that (40/s) and the overload well above it (80/s), so a debug build on a busy host serves
# the one and not the other. Asserted: the overload really overloaded (perfdhcp lost exchanges, the
# daemon logged that it dropped stale requests) and the clean rate afterwards lost under 1 %.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v perfdhcp >/dev/null || e2e_skip "perfdhcp (kea-admin) is not installed"
HOOK_MS="${HOOK_MS:-8}"
CLEAN_RATE="${CLEAN_RATE:-40}"
OVERLOAD_SECONDS=10
RECOVERY_SECONDS=2
MEASURED_SECONDS=6
clients=4000
e2e_setup
db="$E2E_TMP/perf.sqlite3"
sd_perf_database "$db" "$clients" || e2e_fail "perfdhcp reservations" "could not build $db"
sd_conf "$E2E_TMP/conf.lua" "$db" "ALLOW_DHCP_RELAYS = true" "ENABLE_SUSPEND = false" 'LOG_CONSOLE_SEVERITY = "WARN"' \
    'WEB_ENABLED = true' "WEB_IP = \"$E2E_SERVER_IP\"" 'WEB_PORT = 30880' \
    'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
    "  local busy_until = os.clock() + $HOOK_MS / 1000" \
    '  while os.clock() < busy_until do end' \
    '  return true' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

# run_perfdhcp NAME RATE SECONDS WAIT_US: one perfdhcp run, with a report every second (-t 1) of
# the cumulative counts ("sent: DISCOVERs/REQUESTs; received: OFFERs/ACKs; drops: ...").
run_perfdhcp() {
    e2e_rly timeout $(($3 + 30)) perfdhcp -4 -l "$E2E_RELAY_IP" -R "$clients" -b mac=02:00:00:01:00:00 \
        -r "$2" -p "$3" -d 1 -W "$4" -t 1 "$E2E_SERVER_RELAY_IP" >"$E2E_TMP/perfdhcp-$1.log" 2>&1
}

# Three runs back to back, each starting as the one before stops sending (no exit wait), so the
# daemon gets no pause: the overload, the RECOVERY_SECONDS it may take to catch up (not judged),
# and the measured seconds at the clean rate, whose own totals are judged.
run_perfdhcp overload $((CLEAN_RATE * 2)) "$OVERLOAD_SECONDS" 0
run_perfdhcp recovery "$CLEAN_RATE" "$RECOVERY_SECONDS" 0
run_perfdhcp measured "$CLEAN_RATE" "$MEASURED_SECONDS" 2000000

e2e_parse_perfdhcp "$E2E_TMP/perfdhcp-overload.log"
e2e_log "overload at $((CLEAN_RATE * 2))/s for ${OVERLOAD_SECONDS} s: ${E2E_PERF_RECEIVED} of ${E2E_PERF_SENT} messages answered within 1 s"
# The overload was one: more than a tenth of its messages went unanswered within perfdhcp's 1 s.
e2e_assert_ge "messages unanswered during the overload (more than 10 %)" $((E2E_PERF_SENT / 10)) \
    $((E2E_PERF_SENT - E2E_PERF_RECEIVED))
sd_log_has "the daemon dropped requests that waited too long" "Overloaded: [0-9]+ requests on port 67 waited over 500 ms"
# /metrics counts them (refreshed each second: wait for the count to appear).
stale=0 tries=0
while [ "$stale" -eq 0 ] && [ $tries -lt 30 ]; do
    stale="$(e2e_srv curl -fs "http://$E2E_SERVER_IP:30880/metrics" | awk '/^staticdhcpd_stale_requests_total / { print int($2) }')"
    stale="${stale:-0}" tries=$((tries + 1))
    [ "$stale" -gt 0 ] || sleep 0.2
done
e2e_assert_ge "/metrics: staticdhcpd_stale_requests_total" 1 "$stale"
for run in recovery measured; do
    grep -E '^sent: ' "$E2E_TMP/perfdhcp-$run.log" | sed "s/^/      $run (cumulative, DISCOVER\/REQUEST): /"
done

e2e_parse_perfdhcp "$E2E_TMP/perfdhcp-measured.log"
started="$(awk -F': *' '/Statistics for: DISCOVER-OFFER/ { on = 1 } on && /^sent packets:/ { print $2; exit }' "$E2E_TMP/perfdhcp-measured.log")"
started="${started:-0}"
e2e_log "from ${RECOVERY_SECONDS} s after the overload, ${MEASURED_SECONDS} s at ${CLEAN_RATE}/s: ${started} exchanges started, ${E2E_PERF_EXCHANGES} completed, ${E2E_PERF_DROPS} messages lost"
e2e_assert_ge "exchanges started after the recovery window" $((CLEAN_RATE * MEASURED_SECONDS * 8 / 10)) "$started"
# Under 1 %: lost x 100 < started (each lost message loses one exchange).
if [ $((E2E_PERF_DROPS * 100)) -lt "$started" ]; then
    e2e_pass "messages lost after the recovery window = $E2E_PERF_DROPS (under 1 % of $started)"
else
    e2e_fail "messages lost after the recovery window" "expected: under 1 % of $started" "seen:     $E2E_PERF_DROPS"
fi
e2e_finish
