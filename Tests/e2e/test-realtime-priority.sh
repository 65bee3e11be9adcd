#!/usr/bin/env bash
# REALTIME_PRIORITY: the thread that answers DHCP (and only it) runs under SCHED_FIFO at that
# priority, programs a script starts do not inherit the policy, a reload that drops the setting
# puts the thread back under ordinary scheduling at nice -10, and clients are answered throughout.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

sd_reload_setup
# init() writes the policy of a program it starts (chrt -p on that shell's own pid) to a file.
child_policy="$E2E_TMP/child-policy"
report_child='function init() os.execute("sh -c '"'"'chrt -p $$'"'"' > '"$child_policy"' 2>&1") end'
write_conf() { sd_tagged_conf "$conf" "$db" "$@"; }

# engine_thread: the id of the daemon's thread named dhcp-engine.
engine_thread() {
    local task
    for task in /proc/"$E2E_SERVER_PID"/task/*; do
        if [ "$(cat "$task/comm" 2>/dev/null)" = dhcp-engine ]; then basename "$task"; return; fi
    done
}
policy() { chrt -p "$1" 2>/dev/null | sed -n 's/.*scheduling policy: //p' | head -n1; }
priority() { chrt -p "$1" 2>/dev/null | sed -n 's/.*scheduling priority: //p' | head -n1; }
nice_of() { awk '{print $19}' "/proc/$E2E_SERVER_PID/task/$1/stat"; }
domain() { sd_probe --type request --requested 192.0.2.10 --show-option 15; }

write_conf fifo 'REALTIME_PRIORITY = 10' "$report_child"
e2e_start_staticdhcpd "$conf" || e2e_finish
sd_probe_address
e2e_assert_eq "a client is answered with REALTIME_PRIORITY = 10" "ACK fifo.example" "$(domain)"
tid="$(engine_thread)"
e2e_assert_eq "the engine thread is found" yes "$([ -n "$tid" ] && echo yes || echo no)"
e2e_assert_contains "the engine thread runs under SCHED_FIFO" "SCHED_FIFO" "$(policy "$tid")"
e2e_assert_eq "at priority 10" 10 "$(priority "$tid")"
e2e_assert_eq "the main thread stays under ordinary scheduling" SCHED_OTHER "$(policy "$E2E_SERVER_PID")"
sd_log_has "the log says so" "now runs under SCHED_FIFO priority 10"
# init() ran on the engine thread before the policy was applied at start-up; a reload's init()
# runs under it, so the check below uses the second generation's program.
write_conf fifo2 'REALTIME_PRIORITY = 10' "$report_child"
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "reload keeping REALTIME_PRIORITY" 0 $?
e2e_assert_contains "a program started under SCHED_FIFO does not inherit it" "SCHED_OTHER" "$(cat "$child_policy" 2>/dev/null)"

write_conf plain
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "reload without REALTIME_PRIORITY" 0 $?
e2e_assert_contains "the engine thread is back under ordinary scheduling" SCHED_OTHER "$(policy "$tid")"
e2e_assert_eq "at nice -10" -10 "$(nice_of "$tid")"
e2e_assert_eq "clients are still answered" "ACK plain.example" "$(domain)"

write_conf bad 'REALTIME_PRIORITY = 200'
out="$("$STATICDHCPD_BIN" reload --config "$conf" 2>&1)"
e2e_assert_status "REALTIME_PRIORITY = 200 is rejected" 1 $?
e2e_assert_contains "the rejection names the setting and its range" "REALTIME_PRIORITY: expected an integer in 0...99, found 200" "$out"
e2e_assert_eq "the running generation keeps serving" "ACK plain.example" "$(domain)"

e2e_stop_server
e2e_finish
