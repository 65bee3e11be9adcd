#!/usr/bin/env bash
# `staticdhcpd explain` on a real conf.lua and a real SQLite database made with `staticdhcpd db`:
# a reserved MAC gets an OFFER (exit 0) with its options by name, an unknown MAC without
# handleUnknownMAC is dropped (exit 1) with the reason, one that handleUnknownMAC defines gets an
# OFFER, a hook that raises drops the request with the Lua error and its conf.lua line, --json
# parses, and a usage error exits 2. Never touches the network: no root, no namespaces.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${STATICDHCPD_BIN:-$root/.build/debug/staticdhcpd}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
tmp="$(mktemp -d /tmp/explain.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0
pass() { checks=$((checks + 1)); printf '  ok   %s\n' "$1"; }
fail() {
    checks=$((checks + 1))
    failures=$((failures + 1))
    printf '  FAIL %s: %s\n' "$1" "$2"
    sed 's/^/         | /' "$tmp/out" "$tmp/err"
}
status_is() { if [ "$status" -eq "$2" ]; then pass "$1"; else fail "$1" "exit status $status, wanted $2"; fi; }
has() { if grep -qF -- "$2" "$tmp/out"; then pass "$1"; else fail "$1" "no \"$2\" in the output"; fi; }

db="$tmp/reservations.sqlite3"
"$bin" db init --file "$db" >/dev/null || { echo "db init failed"; exit 1; }
"$bin" db subnet add 192.0.2.0/24 --file "$db" --lease-time 3600 --gateway 192.0.2.1 \
    --subnet-mask 255.255.255.0 --broadcast-address 192.0.2.255 --domain-name example.org \
    --dns 192.0.2.53,192.0.2.54 --ntp 192.0.2.123 >/dev/null || { echo "db subnet add failed"; exit 1; }
"$bin" db add 02:00:00:00:00:01 192.0.2.10 --subnet 192.0.2.0/24 --hostname alpha --file "$db" >/dev/null \
    || { echo "db add failed"; exit 1; }

# write_conf NAME LUA-LINE...: $tmp/NAME/conf.lua, the settings then the given lines.
write_conf() {
    local name="$1"
    shift
    mkdir -p "$tmp/$name"
    {
        echo 'DHCP_SERVER_IP = "192.0.2.1"'
        echo 'DAEMON = false'
        echo 'DATABASE_ENGINE = "SQLite"'
        echo "SQLITE_FILE = \"$db\""
        echo 'WEB_ENABLED = false'
        printf '%s\n' "$@"
    } >"$tmp/$name/conf.lua"
}
# explain NAME ARG...: explain on NAME's conf.lua; stdout in $tmp/out, stderr in $tmp/err, status in $status.
explain() {
    local name="$1"
    shift
    "$bin" explain --config "$tmp/$name/conf.lua" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

write_conf plain
write_conf unknown \
    'function handleUnknownMAC(packet, method, mac)' \
    '    logger.info("handleUnknownMAC defines %s", mac)' \
    '    return Definition{ip = "192.0.2.77", lease_time = 600, subnet = "192.0.2.0/24", serial = 0}' \
    'end'
write_conf raises \
    'function handleUnknownMAC(packet, method, mac)' \
    '    local guests = nil' \
    '    return guests[mac]' \
    'end'
write_conf filtered \
    'function filterPacket(packet, method, mac)' \
    '    return nil' \
    'end'

echo "reserved MAC"
explain plain --mac 02:00:00:00:00:01
status_is "a reserved MAC's DISCOVER exits 0 (a reply would be sent)" 0
has "the database step names the reservation" "database: SQLite: 1 definition: 192.0.2.10 in subnet 192.0.2.0/24"
# DHCP_RESPONSE_INTERFACE defaults to "-": a layer-2 reply to yiaddr and chaddr (ReplyAddressing).
has "the reply is an OFFER of the reserved address, routed as the daemon would" "reply: OFFER of 192.0.2.10 to 192.0.2.10:68 via layer2 from port 67 mac 02:00:00:00:00:01"
has "filterPacket is reported as not defined" "filterPacket: not defined in conf.lua"
has "options are listed by name" "1 subnet_mask: 255.255.255.0"
has "routers by name" "3 router: 192.0.2.1"
has "the server identifier is set" "54 server_identifier: 192.0.2.1"

echo "unknown MAC, no handleUnknownMAC"
explain plain --mac 02:00:00:00:00:99
status_is "an unknown MAC exits 1 (dropped)" 1
has "handleUnknownMAC is reported as not defined" "handleUnknownMAC: not defined in conf.lua"
has "the reason is named" "=> no reply: blocklisted for 60 seconds: unknown MAC and server is not authoritative"

echo "unknown MAC, handleUnknownMAC returns a Definition"
explain unknown --mac 02:00:00:00:00:99
status_is "handleUnknownMAC's definition makes it exit 0" 0
has "handleUnknownMAC's answer is shown" "handleUnknownMAC: 1 definition: 192.0.2.77"
has "the hook's log record is shown" "INFO [conf] handleUnknownMAC defines 02:00:00:00:00:99"
has "the OFFER carries handleUnknownMAC's address" "reply: OFFER of 192.0.2.77"

echo "a hook that raises"
explain raises --mac 02:00:00:00:00:99
status_is "a raising hook exits 1" 1
has "the Lua error is shown with its conf.lua line" "conf.lua:8: attempt to index a nil value"
has "the drop is a hook failure" "=> no reply: a hook failed:"

echo "filterPacket returning nil"
explain filtered --mac 02:00:00:00:00:01
status_is "filterPacket nil exits 1" 1
has "filterPacket's verdict is shown" "filterPacket: nil: drop and blocklist"
has "the blocklist reason is named" "filterPacket() returned nil"

echo "--json"
explain plain --mac 02:00:00:00:00:01 --json
status_is "--json for a reserved MAC exits 0" 0
if python3 -c 'import json,sys
report = json.load(open(sys.argv[1]))
options = {o["name"]: o["value"] for o in report["reply"]["options"]}
assert report["reply"]["type"] == "OFFER", report["reply"]
assert report["reply"]["yiaddr"] == "192.0.2.10"
assert options["subnet_mask"] == "255.255.255.0", options
assert report["outcome"] == "replied"
assert "dropped" not in report or report["dropped"] is None
assert any(s["name"] == "database" for s in report["steps"])' "$tmp/out" 2>"$tmp/py.err"; then
    pass "the JSON report parses and names the OFFER, its options and the outcome"
else
    cat "$tmp/py.err" >>"$tmp/err"
    fail "the JSON report parses and names the OFFER, its options and the outcome" "python3 rejected it"
fi
explain plain --mac 02:00:00:00:00:99 --json
status_is "--json for an unknown MAC exits 1" 1
if python3 -c 'import json,sys
report = json.load(open(sys.argv[1]))
assert "reply" not in report or report["reply"] is None
assert "not authoritative" in report["dropped"], report["dropped"]' "$tmp/out" 2>"$tmp/py.err"; then
    pass "the JSON report of a drop names the reason"
else
    cat "$tmp/py.err" >>"$tmp/err"
    fail "the JSON report of a drop names the reason" "python3 rejected it"
fi

echo "usage and configuration errors"
explain plain --mac not-a-mac
status_is "a malformed MAC exits 2" 2
explain plain --mac 02:00:00:00:00:01 --method REQUEST:RENEW
status_is "RENEW without --requested-ip exits 2" 2
explain plain --mac 02:00:00:00:00:01 --no-such-option
status_is "an unknown option exits 2" 2
explain missing --mac 02:00:00:00:00:01
status_is "a missing conf.lua exits 2" 2

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
