#!/usr/bin/env bash
# Who may read and change what on a running daemon's dashboard (issue 21; README, "Web dashboard and
# API"), with the shipped extensions recent_activity and feedservice and two conf.lua methods loaded:
#   1. credentials set, WEB_DASHBOARD_SECURE = false: pages headless Chromium and curl load without
#      credentials carry no CSRF token; a signed-in change is accepted only with the signed-in
#      user's own token, and a POST to a script method without it is refused before the script runs;
#   2. after a reload with WEB_DASHBOARD_SECURE = true: the extension pages answer 401 (a method
#      registered public still answers);
#   3. after a reload without credentials on 0.0.0.0: one WARNING per reload (and at the next start),
#      and changes are refused from a non-loopback address (the server's own 192.0.2.1) but taken
#      on 127.0.0.1.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v chromium >/dev/null || e2e_skip "chromium is not installed"
command -v curl >/dev/null || e2e_skip "curl is not installed"
e2e_setup
mkdir -p "$E2E_TMP/conf"
cp -r "$E2E_ROOT/staticDHCPd_extensions" "$E2E_TMP/conf/"
sd_database "$E2E_TMP/dhcp.sqlite3"
conf="$E2E_TMP/conf/conf.lua"
activity="/ca/uguu/puukusoft/staticDHCPd/extension/recent-activity/render"
feed="/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/feed"
record="/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/record"
reinitialise="/ca/uguu/puukusoft/staticDHCPd/reinitialise"

# write_conf WEB_IP SECURE CREDENTIALS(yes|no)
write_conf() {
    local credentials=()
    [ "$3" = yes ] && credentials=('WEB_DIGEST_USERNAME = "admin"' 'WEB_DIGEST_PASSWORD = "secret"')
    sd_conf "$conf" "$E2E_TMP/dhcp.sqlite3" 'LOG_CONSOLE_SEVERITY = "INFO"' \
        'WEB_ENABLED = true' "WEB_IP = \"$1\"" 'WEB_PORT = 30880' "WEB_DASHBOARD_SECURE = $2" \
        "STATE_DIRECTORY = \"$E2E_TMP/state\"" "${credentials[@]}" \
        'posts = 0' \
        'function init()' \
        '  recent_activity = require "recent_activity"' \
        '  feedservice = require "feedservice"' \
        '  callbacks.webAddMethod("/lab/echo", function() posts = posts + 1; return "text/plain", "posted " .. posts end,' \
        '    { hidden = false, module = "lab", name = "echo" })' \
        '  callbacks.webAddMethod("/lab/hook", function(path, q, mimetype, data) return "text/plain", "hook " .. (data or "") end,' \
        '    { json_api = true })' \
        '  callbacks.webAddMethod("/lab/posts", function() return "text/plain", tostring(posts) end, { public = true })' \
        'end'
}

url="http://192.0.2.1:30880"
code() { e2e_srv curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }
auth=(--digest -u admin:secret)
token_in() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="\([0-9a-f]*\)"/\1/'; }
profile="$(mktemp -d)"
chrome() {
    e2e_srv timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$profile" --hide-scrollbars --virtual-time-budget=3000 "$@" 2>>"$E2E_TMP/chromium.log"
}
# reload_to GENERATION CURL_ARGS...: SIGHUP, then wait until /api/status shows GENERATION.
reload_to() {
    local generation="$1"
    shift
    kill -HUP "$E2E_SERVER_PID"
    for _ in $(seq 50); do
        e2e_srv curl -fs --max-time 5 "$@" 2>/dev/null | tr -d ' \n' | grep -q "\"configGeneration\":$generation" && return 0
        sleep 0.2
    done
    return 1
}

write_conf 192.0.2.1 false yes
e2e_start_staticdhcpd "$conf" || e2e_finish
for _ in $(seq 50); do e2e_srv curl -fs -o /dev/null "$url/" && break; sleep 0.2; done

# 1. No token for anonymous visitors; tokens bound to the signed-in user.
anonymous_pages=""
for path in / "$activity" "$feed" "$record?uid=none" /lab/posts; do
    anonymous_pages+="$(chrome --dump-dom "$url$path")"
    anonymous_pages+="$(e2e_srv curl -s "$url$path")"
done
e2e_assert_contains "Chromium renders the dashboard for an anonymous visitor" 'id="methods"' "$anonymous_pages"
e2e_assert_not_contains "no page served to an anonymous visitor carries a CSRF token" 'name="csrf"' "$anonymous_pages"
e2e_assert_contains "the reinitialise entry is a link to its page for them" "<a href=\"$reinitialise\"" "$anonymous_pages"
e2e_assert_eq "the reinitialise page asks anonymous visitors for the credentials" 401 "$(code "$url$reinitialise")"
token="$(e2e_srv curl -s "${auth[@]}" "$url$reinitialise" | token_in)"
e2e_assert_eq "a signed-in user gets a token" 40 "${#token}"
e2e_assert_eq "...the same on every page" "$token" "$(e2e_srv curl -s "${auth[@]}" "$url/reservations" | token_in)"
e2e_assert_eq "the user's token without the credentials changes nothing" 403 \
    "$(code -X POST -H "X-CSRF-Token: $token" "$url/api/reload")"
e2e_assert_eq "a signed-in reload without a token is refused" 403 "$(code "${auth[@]}" -X POST -d x=1 "$url/api/reload")"
e2e_assert_eq "a signed-in reload with a made-up token is refused" 403 \
    "$(code "${auth[@]}" -X POST -H "X-CSRF-Token: 0000000000000000000000000000000000000000" "$url/api/reload")"
e2e_assert_eq "a signed-in reinitialise with the user's token is accepted" 200 \
    "$(code "${auth[@]}" -X POST --data-urlencode "csrf=$token" "$url$reinitialise")"

# 3 (of the issue). Script-method POSTs need the token; a JSON API method needs JSON instead.
e2e_assert_eq "a signed-in POST to a script method without a token is refused" 403 \
    "$(code "${auth[@]}" -X POST -d x=1 "$url/lab/echo")"
e2e_assert_eq "an anonymous POST to it with the user's token is asked to sign in" 401 \
    "$(code -X POST --data-urlencode "csrf=$token" "$url/lab/echo")"
e2e_assert_eq "...and the script never ran" 0 "$(e2e_srv curl -s "$url/lab/posts")"
e2e_assert_eq "with the user's token it runs" "posted 1" \
    "$(e2e_srv curl -s "${auth[@]}" -X POST --data-urlencode "csrf=$token" "$url/lab/echo")"
e2e_assert_eq "a json_api method takes JSON without a token" 'hook {"a":1}' \
    "$(e2e_srv curl -s -X POST -H 'Content-Type: application/json' -d '{"a":1}' "$url/lab/hook")"
e2e_assert_eq "...and refuses a form" 415 "$(code -X POST -d a=1 "$url/lab/hook")"
e2e_assert_eq "no exposure WARNING with credentials set" 0 "$(grep -c 'without WEB_DIGEST_USERNAME' "$E2E_TMP/server.log")"

# 2. WEB_DASHBOARD_SECURE = true covers the extension pages.
write_conf 192.0.2.1 true yes
reload_to 3 "${auth[@]}" "$url/api/status" || e2e_fail "reload with WEB_DASHBOARD_SECURE = true" "generation 3 not seen"
for path in / "$activity" "$feed" "$record?uid=none" /lab/echo /api/status; do
    e2e_assert_eq "WEB_DASHBOARD_SECURE: $path answers 401 without credentials" 401 "$(code "$url$path")"
done
e2e_assert_eq "...the feed answers a signed-in user" 200 "$(code "${auth[@]}" "$url$feed")"
e2e_assert_eq "...a method registered public still answers" 200 "$(code "$url/lab/posts")"

# 4. Without credentials on 0.0.0.0: a WARNING per start and reload; changes only from loopback.
write_conf 0.0.0.0 false no
kill -HUP "$E2E_SERVER_PID"
for _ in $(seq 50); do e2e_srv curl -fs -o /dev/null "http://127.0.0.1:30880/" && break; sleep 0.2; done
e2e_assert_eq "one exposure WARNING after the reload" 1 "$(grep -c 'WARNING.*listens on 0.0.0.0:30880 without WEB_DIGEST_USERNAME' "$E2E_TMP/server.log")"
reload_to 5 "http://127.0.0.1:30880/api/status" || e2e_fail "second reload without credentials" "generation 5 not seen"
e2e_assert_eq "...and one more at the next reload" 2 "$(grep -c 'WARNING.*listens on 0.0.0.0:30880 without WEB_DIGEST_USERNAME' "$E2E_TMP/server.log")"
refused="$(e2e_srv curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$url/api/reload")"
e2e_assert_contains "a reload from a non-loopback address is refused" " 403" "$refused"
e2e_assert_contains "...naming the fix" "set WEB_DIGEST_USERNAME and WEB_DIGEST_PASSWORD" "$refused"
e2e_assert_eq "a reservation edit from there is refused" 403 \
    "$(code -X PUT -H 'Content-Type: application/json' -d '{"leaseTime":60}' "$url/api/subnets/192.0.2.0/24?serial=0")"
e2e_assert_eq "reading stays open" 200 "$(code "$url/api/reservations")"
e2e_assert_not_contains "pages served there carry no token" 'name="csrf"' "$(e2e_srv curl -s "$url/")"
e2e_assert_eq "a reload from 127.0.0.1 is taken" 200 \
    "$(code -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:30880/api/reload")"
e2e_stop_server
e2e_start_staticdhcpd "$conf" || e2e_finish
for _ in $(seq 50); do e2e_srv curl -fs -o /dev/null "http://127.0.0.1:30880/" && break; sleep 0.2; done
e2e_assert_eq "a start with that conf.lua logs the WARNING once" 1 \
    "$(grep -c 'WARNING.*listens on 0.0.0.0:30880 without WEB_DIGEST_USERNAME' "$E2E_TMP/server.log")"
rm -rf "$profile"
e2e_finish
