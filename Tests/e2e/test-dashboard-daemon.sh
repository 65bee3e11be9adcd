#!/usr/bin/env bash
# The dashboard of a running daemon: after a real client got its lease, headless Chromium loads
# http://192.0.2.1:30880/ inside the server namespace; the rendered DOM shows SYSTEM_NAME, the
# status (database engine, config generation), the client in "recent clients", an element that
# conf.lua registered with callbacks.webAddDashboard, and a RAW method; a screenshot is saved under
# test-output/. The JSON API and /metrics answer, and a SIGHUP shows up as generation 2.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v chromium >/dev/null || e2e_skip "chromium is not installed"
command -v curl >/dev/null || e2e_skip "curl is not installed"
e2e_setup
OUT="$E2E_ROOT/test-output/e2e"
mkdir -p "$OUT"
sd_database "$E2E_TMP/dhcp.sqlite3"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" \
    'WEB_ENABLED = true' 'WEB_IP = "192.0.2.1"' 'WEB_PORT = 30880' 'SYSTEM_NAME = "lab-dhcp-01"' \
    'LOG_CONSOLE_SEVERITY = "INFO"' 'WEB_DIGEST_USERNAME = "admin"' 'WEB_DIGEST_PASSWORD = "secret"' \
    'WEB_REINITIALISE_SECURE = true' \
    'function init()' \
    '  callbacks.webAddDashboard("lab", "pools", function(path, queryargs, mimetype, data, headers)' \
    '    return "<p id=\"lab-pools\">pool 192.0.2.128/26: 12 of 62 in use</p>"' \
    '  end)' \
    '  callbacks.webAddMethod("/lab/ping", function(path, queryargs, mimetype, data, headers)' \
    '    return "text/plain", "pong " .. (queryargs.n and queryargs.n[1] or "")' \
    '  end, false, false, false, "lab", "ping")' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
for _ in $(seq 50); do e2e_srv curl -fs -o /dev/null "http://192.0.2.1:30880/" && break; sleep 0.2; done

lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease" 0 $?
sleep 1

url="http://192.0.2.1:30880"
# The README's curl examples, as written there (digest credentials from conf.lua).
api() { e2e_srv curl -fs --digest -u admin:secret "$@"; }
e2e_assert_eq "POST /api/reload without credentials is refused (WEB_REINITIALISE_SECURE)" 401 \
    "$(e2e_srv curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$url/api/reload")"
status="$(api "$url/api/status" | tr -d " \n")"
e2e_assert_contains "/api/status names the database" '"databaseEngine":"SQLite"' "$status"
e2e_assert_contains "/api/status shows generation 1" '"configGeneration":1' "$status"
e2e_assert_contains "/metrics is Prometheus text" "# TYPE" "$(api "$url/metrics")"
e2e_assert_contains "/api/clients lists the client" "$E2E_CLIENT_MAC" "$(api "$url/api/clients")"
e2e_assert_contains "/api/log has the ACK" "ACK sent" "$(api "$url/api/log")"
e2e_assert_contains "/api/statistics answers" "{" "$(api "$url/api/statistics")"
e2e_assert_contains "/api/reservations finds the reservation" "192.0.2.10" "$(api "$url/api/reservations?q=192.0.2.&limit=50")"
e2e_assert_contains "/api/subnets lists the subnet" '"subnet":"192.0.2.0/24"' "$(api "$url/api/subnets" | tr -d " \n")"
api -X PUT -H 'Content-Type: application/json' -d '{"leaseTime":7200,"gateway":"192.0.2.1"}' "$url/api/subnets/192.0.2.0/24" >/dev/null
e2e_assert_contains "PUT /api/subnets/192.0.2.0/24 changes the lease time in SQLite" '"leaseTime":7200' \
    "$(api "$url/api/subnets/192.0.2.0/24?serial=0" | tr -d " \n")"
e2e_assert_eq "a subnet with reservations cannot be removed" 400 \
    "$(e2e_srv curl -s -o /dev/null -w '%{http_code}' --digest -u admin:secret -X DELETE "$url/api/subnets/192.0.2.0/24")"
e2e_assert_eq "RAW method from conf.lua" "pong 7" "$(e2e_srv curl -fs "$url/lab/ping?n=7")"
# /explain (README, "Checking a change before SIGHUP"): credentials, then a POST with the token.
e2e_assert_eq "/explain without credentials asks for them" 401 \
    "$(e2e_srv curl -s -o /dev/null -w '%{http_code}' "$url/explain")"
token="$(api "$url/explain" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')"
explained="$(api --data-urlencode "csrf=$token" --data-urlencode "mac=$E2E_CLIENT_MAC" --data-urlencode "method=DISCOVER" "$url/explain")"
e2e_assert_contains "/explain runs conf.lua and the database: the reservation's OFFER" "reply: OFFER of 192.0.2.10" "$explained"
# The PUT above set the subnet's lease time to 7200: explain reads the database as it is now.
e2e_assert_contains "/explain lists the OFFER's options by name, from the database as it is now" \
    "51 ip_address_lease_time: 7200" "$explained"
e2e_assert_eq "unknown path is a 404" 404 "$(e2e_srv curl -s -o /dev/null -w '%{http_code}' "$url/no/such/page")"

profile="$(mktemp -d)"
chrome() {
    e2e_srv timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$profile" --hide-scrollbars --virtual-time-budget=5000 "$@" 2>>"$E2E_TMP/chromium.log"
}
dom="$(chrome --dump-dom "$url/")"
e2e_assert_contains "title is SYSTEM_NAME" "<title>lab-dhcp-01</title>" "$dom"
e2e_assert_contains "status shows the database engine" "SQLite" "$dom"
e2e_assert_contains "recent clients lists the client" "$E2E_CLIENT_MAC" "$dom"
e2e_assert_contains "the conf.lua dashboard element" 'id="lab-pools"' "$dom"
e2e_assert_contains "the sidebar lists the conf.lua method" "/lab/ping" "$dom"
e2e_assert_contains "events show the ACK" "ACK sent to $E2E_CLIENT_MAC" "$dom"
chrome --screenshot="$OUT/dashboard-daemon.png" --window-size=1440,1000 "$url/" >/dev/null
e2e_assert_eq "screenshot saved ($OUT/dashboard-daemon.png)" yes "$([ -s "$OUT/dashboard-daemon.png" ] && echo yes || echo no)"
rm -rf "$profile"

reload="$(api -X POST -H 'Content-Type: application/json' -d '{}' "$url/api/reload" | tr -d " \n")"
e2e_assert_contains "POST /api/reload succeeds" '"succeeded":true' "$reload"
e2e_assert_contains "after the API reload: generation 2" '"configGeneration":2' "$(api "$url/api/status" | tr -d " \n")"
kill -HUP "$E2E_SERVER_PID"
sleep 2
e2e_assert_contains "after SIGHUP: generation 3" '"configGeneration":3' "$(api "$url/api/status" | tr -d " \n")"

# A normal stop with the dashboard up logs nothing at error level (the web server stops gracefully).
lines_before_stop="$(wc -l <"$E2E_TMP/server.log")"
e2e_stop_server
e2e_assert_eq "SIGTERM logs no ERROR line" "" \
    "$(tail -n +"$((lines_before_stop + 1))" "$E2E_TMP/server.log" | grep -E 'ERROR|CRITICAL|Waiting on child channel' || true)"
e2e_finish
