#!/usr/bin/env bash
# DATABASE_ENGINE = "HTTP": the daemon asks a JSON service (httpdb_stub.py, on the server
# namespace's loopback) for each MAC. udhcpc gets the address the service answered, with the
# X_HTTPDB_DEFAULT_NAME_SERVERS filling the DNS the answer left out; the service sees the POSTed
# MAC, parameters and headers; an unknown MAC gets no offer; a failing service drops the request
# with one clear log line and the daemon keeps serving.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
port=18089
stub_log="$E2E_TMP/stub.log"
: >"$stub_log"
# Stopped at the end (and by e2e_cleanup with the namespace's other processes on an early exit).
ip netns exec "$E2E_SRV_NS" python3 "$E2E_LIB_DIR/httpdb_stub.py" --port "$port" --log "$stub_log" \
    >"$E2E_TMP/stub.out" 2>&1 &
stub=$!
for _ in $(seq 50); do e2e_srv ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done

cat >"$E2E_TMP/conf.lua" <<LUA
DHCP_SERVER_IP = "$E2E_SERVER_IP"
DAEMON = false
DATABASE_ENGINE = "HTTP"
X_HTTPDB_URI = "http://127.0.0.1:$port/lookup"
X_HTTPDB_HEADERS = {["X-Site"] = "north"}
X_HTTPDB_PARAMETERS = {site = "north"}
X_HTTPDB_DEFAULT_NAME_SERVERS = "192.0.2.53, 192.0.2.54"
X_HTTPDB_CONCURRENCY_LIMIT = 4
WEB_ENABLED = false
LOG_CONSOLE_SEVERITY = "DEBUG"
PID_FILE = "$E2E_TMP/staticdhcpd.pid"
LUA
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

echo "a reserved MAC"
lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease" 0 $?
e2e_assert_env "ip" "$lease" ip 192.0.2.10
e2e_assert_env "router" "$lease" router 192.0.2.1
e2e_assert_env "hostname" "$lease" hostname alpha
e2e_assert_env "lease time from the answer" "$lease" lease 1800
e2e_assert_env "DNS from X_HTTPDB_DEFAULT_NAME_SERVERS" "$lease" dns "192.0.2.53 192.0.2.54"
first="$(head -n1 "$stub_log")"
e2e_assert_contains "the service saw a POST to /lookup" '"method": "POST", "path": "/lookup"' "$first"
e2e_assert_contains "with the X_HTTPDB_HEADERS header" '"X-Site": "north"' "$first"
e2e_assert_contains "with the MAC in the JSON body" '\"mac\":\"02:00:00:00:00:01\"' "$first"
e2e_assert_contains "with the X_HTTPDB_PARAMETERS" '\"site\":\"north\"' "$first"

echo "an unknown MAC"
e2e_client_reset
e2e_client_mac 02:00:00:00:00:09
e2e_udhcpc >/dev/null
e2e_assert_status "udhcpc gets no lease for an unknown MAC" 1 $?
e2e_assert_contains "the service was asked about it" '02:00:00:00:00:09' "$(cat "$stub_log")"

echo "a failing service"
e2e_client_mac 02:00:00:00:00:0e
e2e_udhcpc >/dev/null
e2e_assert_status "udhcpc gets no lease while the service fails" 1 $?
sd_log_has "one clear line names the service and its status" \
    "dropped: database lookup failed: HTTP database unavailable: http://127.0.0.1:$port/lookup answered 500 Internal Server Error for 02:00:00:00:00:0e: lookup backend on fire"

echo "still serving"
e2e_client_mac 02:00:00:00:00:01
lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease after the failures" 0 $?
e2e_assert_env "ip" "$lease" ip 192.0.2.10
if e2e_server_alive; then e2e_pass "the daemon is still running"; else e2e_fail "the daemon is still running"; fi
kill "$stub" 2>/dev/null
wait "$stub" 2>/dev/null
e2e_finish
