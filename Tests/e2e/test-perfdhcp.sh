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
"$STATICDHCPD_BIN" db init --file "$db" >/dev/null
"$STATICDHCPD_BIN" db subnet add 198.51.100.0/24 --lease-time 3600 --gateway 198.51.100.1 --subnet-mask 255.255.255.0 --file "$db" >/dev/null
# Client k is 02:00:00:01:HH:LL with HHLL = k (notes/testing-dhcp.md); perfdhcp never configures the
# addresses, so 2,000 reservations share the subnet's 250 addresses across serials.
python3 - "$db" "$clients" <<'PY'
import sqlite3, sys
db, count = sys.argv[1], int(sys.argv[2])
connection = sqlite3.connect(db)
for serial in range(1, count // 250 + 1):
    connection.execute("INSERT INTO subnets (subnet, serial, lease_time, gateway, subnet_mask) VALUES ('198.51.100.0/24', ?, 3600, '198.51.100.1', '255.255.255.0')", (serial,))
for k in range(count):
    connection.execute("INSERT INTO maps (mac, ip, subnet, serial) VALUES (?, ?, '198.51.100.0/24', ?)",
                       (f"02:00:00:01:{k >> 8:02x}:{k & 255:02x}", f"198.51.100.{k % 250 + 3}", k // 250))
connection.commit()
PY
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
