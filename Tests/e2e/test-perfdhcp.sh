#!/usr/bin/env bash
# perfdhcp through a relay address (giaddr) completes full DORA exchanges for 2,000 reserved MACs
# with zero drops at a modest rate. Reports exchanges per second and the daemon's CPU time.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v perfdhcp >/dev/null || e2e_skip "perfdhcp (kea-admin) is not installed"
e2e_setup
clients=2000
db="$E2E_TMP/perf.sqlite3"
sd_perf_database "$db" "$clients" || e2e_fail "perfdhcp reservations" "could not build $db"
sd_conf "$E2E_TMP/conf.lua" "$db" "ALLOW_DHCP_RELAYS = true" "ENABLE_SUSPEND = false" 'LOG_CONSOLE_SEVERITY = "WARN"'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

before="$(e2e_server_cpu_ticks)"
e2e_perfdhcp "$clients" 200 10
e2e_assert_status "perfdhcp" 0 $?
after="$(e2e_server_cpu_ticks)"
e2e_assert_ge "completed exchanges" 1500 "${E2E_PERF_EXCHANGES:-0}"
e2e_assert_eq "drops" 0 "${E2E_PERF_DROPS:-missing}"
ticks=$((after - before))
hz="$(getconf CLK_TCK)"
if [ "${E2E_PERF_EXCHANGES:-0}" -gt 0 ]; then
    e2e_log "perfdhcp: ${E2E_PERF_EXCHANGES} exchanges (${E2E_PERF_RATE:-?}); daemon CPU $((ticks * 1000 / hz)) ms, $((ticks * 1000000 / hz / E2E_PERF_EXCHANGES)) us per exchange"
fi
e2e_finish
