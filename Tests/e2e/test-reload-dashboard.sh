#!/usr/bin/env bash
# The web dashboard follows reloads of conf.lua: new credentials and SYSTEM_NAME apply to the
# running dashboard at once (the old password stops working); a new WEB_PORT moves it (the old
# port closes); WEB_ENABLED = false stops it and true starts it again. A port the dashboard cannot
# have is a warning in `staticdhcpd reload`'s report while DHCP keeps serving the new generation.
# A reload asked for through the dashboard that moves the dashboard itself also completes.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

command -v curl >/dev/null || e2e_skip "curl is not installed"
e2e_setup
db="$E2E_TMP/dhcp.sqlite3"
sd_database "$db"
conf="$E2E_TMP/conf.lua"

# write_conf NAME PASSWORD PORT [LUA...]
write_conf() {
    local name="$1" password="$2" port="$3"
    shift 3
    sd_tagged_conf "$conf" "$db" "$name" 'WEB_ENABLED = true' 'WEB_IP = "192.0.2.1"' \
        "WEB_PORT = $port" "SYSTEM_NAME = \"$name\"" 'WEB_DIGEST_USERNAME = "admin"' \
        "WEB_DIGEST_PASSWORD = \"$password\"" 'WEB_DASHBOARD_SECURE = true' "$@"
}

# page PORT PASSWORD: the HTTP status of the dashboard page (000: nothing listens) and, on 200,
# the system name it shows.
page() {
    local body status
    body="$(e2e_srv curl -s --max-time 5 --digest -u "admin:$2" -w '\n%{http_code}' "http://192.0.2.1:$1/")"
    status="${body##*$'\n'}"
    if [ "$status" = 200 ]; then
        printf '%s %s\n' "$status" "$(printf '%s' "$body" | grep -o 'lab-[a-z]*' | head -n 1)"
    else
        printf '%s\n' "$status"
    fi
}

reload() { "$STATICDHCPD_BIN" reload --config "$conf" 2>&1; }
domain() { sd_probe --type request --requested 192.0.2.10 --show-option 15; }
wait_page() { for _ in $(seq 50); do [ "$(page "$1" "$2")" = 000 ] || return 0; sleep 0.2; done; }

write_conf lab-a secret 30880
e2e_start_staticdhcpd "$conf" || e2e_finish
sd_probe_address
wait_page 30880 secret
e2e_assert_eq "the dashboard with its password" "200 lab-a" "$(page 30880 secret)"
e2e_assert_eq "the dashboard with a wrong password" 401 "$(page 30880 wrong)"

write_conf lab-b changed 30880
out="$(reload)"
e2e_assert_status "reload with a new password and SYSTEM_NAME" 0 $?
e2e_assert_eq "the new password and name apply at once" "200 lab-b" "$(page 30880 changed)"
e2e_assert_eq "the old password no longer opens it" 401 "$(page 30880 secret)"

write_conf lab-c changed 30881
out="$(reload)"
e2e_assert_status "reload with a new WEB_PORT" 0 $?
e2e_assert_eq "the dashboard on the new port" "200 lab-c" "$(page 30881 changed)"
e2e_assert_eq "nothing on the old port" 000 "$(page 30880 changed)"

write_conf lab-d changed 30881 'WEB_ENABLED = false'
out="$(reload)"
e2e_assert_status "reload with WEB_ENABLED = false" 0 $?
e2e_assert_eq "the dashboard has stopped" 000 "$(page 30881 changed)"
e2e_assert_eq "DHCP serves the new generation" "ACK lab-d.example" "$(domain)"

sd_hold_port tcp 192.0.2.1 30882
write_conf lab-e changed 30882
out="$(reload)"
e2e_assert_status "reload with a WEB_PORT another program holds" 0 $?
e2e_assert_contains "the report warns that the dashboard cannot serve there" "cannot serve on 192.0.2.1:30882" "$out"
e2e_log "$out"
e2e_assert_eq "DHCP serves the new generation anyway" "ACK lab-e.example" "$(domain)"
kill "$SD_HOLDER_PID" 2>/dev/null

write_conf lab-f changed 30880
out="$(reload)"
e2e_assert_status "reload with WEB_ENABLED = true again" 0 $?
wait_page 30880 changed
e2e_assert_eq "the dashboard is back" "200 lab-f" "$(page 30880 changed)"

# The dashboard's own reload API moves the dashboard: the request that asked must still be answered.
write_conf lab-g changed 30883
status="$(e2e_srv curl -s --max-time 20 -o /dev/null -w '%{http_code}' --digest -u admin:changed -X POST \
    -H 'Content-Type: application/json' -d '{}' "http://192.0.2.1:30880/api/reload")"
e2e_assert_eq "POST /api/reload that moves the dashboard is answered" 200 "$status"
wait_page 30883 changed
e2e_assert_eq "the dashboard on the port the API's reload set" "200 lab-g" "$(page 30883 changed)"

e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
