#!/usr/bin/env bash
# scripts/run's demo: the daemon serves inside its own network namespace, and the dashboard is
# forwarded to this host's 127.0.0.1 (demo_forward_dashboard in scripts/lib/demo-net.sh) so a
# browser here opens it. Uses its own namespace names, so a running demo is left alone.
set -u
source "$(dirname "$0")/lib.sh"
e2e_require_root
command -v socat >/dev/null || e2e_skip "'socat' is not installed (scripts/lib/common.sh E2E_PACKAGES)"

export DEMO_SRV_NS="sdhcpd-e2e-demo-srv-$$" DEMO_CLI_NS="sdhcpd-e2e-demo-cli-$$"
source "$E2E_ROOT/scripts/lib/demo-net.sh"
tmp="$(mktemp -d /tmp/staticdhcpd-demo-e2e.XXXXXX)"
daemon=
cleanup() {
    demo_forward_stop
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    demo_net_down
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$((31000 + RANDOM % 2000))
demo_net_up
"$STATICDHCPD_BIN" db demo --file "$tmp/dhcp.sqlite3" >/dev/null
e2e_assert_status "the demo database is created" 0 $?
cat >"$tmp/conf.lua" <<LUA
DHCP_SERVER_IP = "192.0.2.1"
DAEMON = false
DATABASE_ENGINE = "SQLite"
SQLITE_FILE = "$tmp/dhcp.sqlite3"
WEB_IP = "127.0.0.1"
WEB_PORT = $port
PID_FILE = "$tmp/staticdhcpd.pid"
LUA
ip netns exec "$DEMO_SRV_NS" "$STATICDHCPD_BIN" --config "$tmp/conf.lua" >"$tmp/server.log" 2>&1 &
daemon=$!
tries=0
until ip netns exec "$DEMO_SRV_NS" curl -s -o /dev/null "http://127.0.0.1:$port/" || [ $tries -ge 100 ]; do
    sleep 0.2
    tries=$((tries + 1))
done

status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port/")"
e2e_assert_eq "without the forwarder this host cannot reach the namespace's dashboard" 000 "$status"

demo_forward_dashboard "$port"
e2e_assert_status "the forwarder listens on this host's 127.0.0.1:$port" 0 $?
page="$(curl -s --max-time 10 "http://127.0.0.1:$port/")"
e2e_assert_contains "this host's browser gets the dashboard" "<title>" "$page"
status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/reservations")"
e2e_assert_eq "and its pages" 200 "$status"

demo_forward_stop
demo_net_down
e2e_assert_eq "the demo namespaces are gone" "" "$(ip netns list | grep -F "$DEMO_SRV_NS" || true)"
e2e_finish
