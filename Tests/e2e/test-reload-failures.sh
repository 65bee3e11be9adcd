#!/usr/bin/env bash
# Every way a reload can fail leaves the running generation serving, and `staticdhcpd reload` exits 1
# naming the problem (test-reload-under-load.sh covers a Lua syntax error): a setting of the wrong
# type, a required setting missing, init() raising an error, an unreachable database, an unknown
# database engine. A failing reinit handler of the old generation is only a warning. Afterwards a
# good conf.lua still takes over.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

sd_reload_setup

# write_conf TAG [LUA...]: a conf.lua whose replies carry domain name TAG.example, plus extra lines.
write_conf() { sd_tagged_conf "$conf" "$db" "$@"; }

domain() { sd_probe --type request --requested 192.0.2.10 --show-option 15; }

# rejected WHAT EXPECTED_TEXT: reloads, expects exit 1 with EXPECTED_TEXT in the report, and gen1 still answering.
rejected() {
    local out status
    out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
    status=$?
    e2e_assert_status "reload with $1" 1 "$status"
    e2e_assert_contains "reload with $1 says why" "$2" "$out"
    e2e_assert_eq "after $1 the old generation answers" "ACK gen1.example" "$(domain)"
}

write_conf gen1 \
    'function init()' \
    '  callbacks.systemAddReinitHandler(function() error("old handler fails on purpose") end)' \
    'end'
e2e_start_staticdhcpd "$conf" || e2e_finish
sd_probe_address
e2e_assert_eq "generation 1 answers" "ACK gen1.example" "$(domain)"

write_conf bad 'DHCP_SERVER_PORT = "sixty-seven"'
rejected "a setting of the wrong type" "DHCP_SERVER_PORT"

write_conf bad 'EMAIL_ENABLED = true'
rejected "a required setting missing" "EMAIL_SERVER"

write_conf bad 'function init()' '  error("init refuses to start")' 'end'
rejected "an init() error" "init refuses to start"
sd_log_has "the init() error names file and line" "conf.lua:[0-9]+: init refuses to start"

write_conf bad "SQLITE_FILE = \"$E2E_TMP/missing/dhcp.sqlite3\""
rejected "an unreachable database" "does not exist"

write_conf bad 'DATABASE_ENGINE = "NoSuchEngine"'
rejected "an unknown database engine" "NoSuchEngine"

write_conf gen2
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "reload with a good conf.lua" 0 $?
e2e_assert_contains "a failing old reinit handler is only a warning" "old handler fails on purpose" "$out"
e2e_assert_eq "generation 2 answers" "ACK gen2.example" "$(domain)"
e2e_assert_eq "rejected reloads counted in the log" 5 "$(grep -c 'Reload rejected' "$E2E_TMP/server.log")"
e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
