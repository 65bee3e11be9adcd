#!/usr/bin/env bash
# scripts/convert-conf on Tests/convert-conf/sample-conf.py covering the parameter table: the result passes
# `staticdhcpd --check-config`, values, legacy names and None are converted as docs/SCRIPTING.md
# says, and the hooks are carried over as comments. Needs no root; runs in a temporary directory.
set -u
here="$(cd "$(dirname "$0")/../convert-conf" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${STATICDHCPD_BIN:-$root/.build/debug/staticdhcpd}"
tmp="$(mktemp -d /tmp/convert-conf.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # check WHAT COMMAND...
    local what="$1"; shift
    if "$@" >/dev/null 2>&1; then printf '  ok   %s\n' "$what"; else printf '  FAIL %s\n' "$what"; failures=$((failures + 1)); fi
}
has() { grep -qF -- "$1" "$tmp/conf.lua"; }

"$root/scripts/convert-conf" "$here/sample-conf.py" >"$tmp/conf.lua"
check "convert-conf exits 0" test $? -eq 0
"$bin" --check-config "$tmp/conf.lua" >"$tmp/check.out" 2>&1
status=$?
check "staticdhcpd --check-config accepts the converted conf.lua" test $status -eq 0
[ $status -eq 0 ] || sed 's/^/         | /' "$tmp/check.out"
check "booleans" has "DAEMON = false"
check "strings with quotes are escaped" has 'SYSTEM_NAME = "staticDHCPd \"lab\""'
check "backslashes are escaped" has 'POSTGRESQL_PASSWORD = "pa\"ss\\word"'
check "UTF-8 text stays readable" has 'WEB_DIGEST_PASSWORD = "sécret"'
check "an integral float becomes an integer where conf.lua wants one" has "GID = 999"
check "floats stay floats" has "EMAIL_TIMEOUT = 4.0"
check "tuples become lists" has "DHCP_RESPONSE_INTERFACE_QTAGS = {{0, false, 100}, {3, true, 200}}"
check "dicts become tables" has 'X_HTTPDB_HEADERS = {["Content-Type"] = "application/json", ["X-Token"] = "abc"}'
check "PXE_PORT maps to PROXY_PORT" has "PROXY_PORT = 4011  -- was PXE_PORT in conf.py"
check "CACHE_ON_DISK maps to DISK_CACHE" has "DISK_CACHE = true"
check "PERSISTENT_CACHE maps to DISK_CACHE_PERSISTENT" has 'DISK_CACHE_PERSISTENT = "/var/cache/staticDHCPd.sqlite3"'
check "MEMCACHED_SERVER maps to MEMCACHED_HOST" has 'MEMCACHED_HOST = "127.0.0.1"'
check "None -> false where conf.lua says so" has "DHCP_RESPONSE_INTERFACE = false"
check "None -> false for LOG_FILE_HISTORY" has "LOG_FILE_HISTORY = false"
check "None -> false for WEB_LOG_MAX_HEIGHT" has "WEB_LOG_MAX_HEIGHT = false"
check "other None values are left unset" has "-- PID_FILE = nil"
check "comments are carried over" has "-- The IP of the interface to use for DHCP traffic"
check "settings computed from constants are evaluated" has "WEB_HEADER_TITLE = false  -- computed in conf.py: True if DEBUG else False"
check "other computed settings are marked for translation" has "-- TRANSLATE: EMAIL_USER is computed"
check "hooks are copied as comments" has "-- | def loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet):"
check "a hook in the guide's forms is translated" has "function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)"
check "...reading the octet through ipToList" has "    if ipToList(definition.ip)[4] % 3 == 0 then"
check "init() is copied as a comment" has "-- |     with extensions.feedservice as x:"
check "...marked for translation with the reason" has "-- TRANSLATE: function init: rewrite in Lua"
check "imports are commented" has "-- | import random"
check "...saying why random is not needed" has "-- not needed in conf.lua: random.random() is math.random()"
check "no Python code is left uncommented" bash -c "! grep -nE '^(def |import |from )|:\$' '$tmp/conf.lua' | grep -v '^[0-9]*:--'"
# The converted file runs as Lua and the settings read back as set.
check "the converted file is valid Lua" luac5.4 -p "$tmp/conf.lua"
# The scripting guide's example hooks (served by test-guide-hooks.sh): every one becomes Lua.
"$root/scripts/convert-conf" "$here/guide-examples.py" >"$tmp/guide.lua"
check "the guide's examples convert" test $? -eq 0
check "...with no TRANSLATE left for a hook" bash -c "! grep -q 'TRANSLATE: function' '$tmp/guide.lua'"
check "...and pass --check-config" "$bin" --check-config "$tmp/guide.lua"
check "constant arithmetic is evaluated" grep -qF "UNAUTHORIZED_CLIENT_TIMEOUT = 600  -- computed in conf.py: 60 * 10" "$tmp/guide.lua"
check "powers are evaluated" grep -qF "WEB_LOG_HISTORY = 256" "$tmp/guide.lua"
check "literal strings are joined" grep -qF 'SYSTEM_NAME = "staticDHCPd guide"' "$tmp/guide.lua"
# The translator's own unit tests: each form run in lua5.4 against Python's result.
check "hook translator unit tests" python3 -m unittest discover -s "$here" -p 'test_*.py'
# Bad input: a syntax error exits 2 with a message naming the line.
printf 'DEBUG = (\n' >"$tmp/bad.py"
"$root/scripts/convert-conf" "$tmp/bad.py" >/dev/null 2>"$tmp/bad.err"
check "a conf.py that does not parse exits 2" test $? -eq 2
check "...naming the line" grep -q "line" "$tmp/bad.err"
"$root/scripts/convert-conf" "$tmp/missing.py" >/dev/null 2>&1
check "a missing conf.py exits 2" test $? -eq 2
echo "convert-conf: $failures failure(s)"
[ $failures -eq 0 ]
