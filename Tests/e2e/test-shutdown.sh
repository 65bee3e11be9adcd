#!/usr/bin/env bash
# Shutdown with requests in flight (issue: daemon lifecycle): while a slow loadDHCPPacket hook is
# busy with several DISCOVERs, SIGTERM stops the daemon taking packets, lets those in flight finish
# (their OFFERs still arrive), removes the pid file and exits 0. A second SIGTERM during that wait
# exits at once: the requests still in flight then get no OFFER. The times are reported, not
# asserted (a loaded host is slow, not wrong); a daemon that never exits fails after 60 s.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
pidfile="$E2E_TMP/staticdhcpd.pid"

# write_conf SECONDS: loadDHCPPacket busy-waits that long (CPU time) for every reply.
write_conf() {
    sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" 'ENABLE_SUSPEND = false' 'LOG_CONSOLE_SEVERITY = "INFO"' \
        'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
        "  local started = os.clock() while os.clock() - started < $1 do end" \
        '  return true' \
        'end'
}

# burst COUNT: sends COUNT DISCOVERs at once from the client namespace, then waits up to 12 s for
# the replies; prints "SENT n" as soon as they are out (to $E2E_TMP/burst.sent) and "OFFERS n" at the end.
burst() {
    e2e_cli python3 - "$E2E_LIB_DIR" "$E2E_SERVER_IP" "$E2E_CLIENT_MAC" "$1" "$E2E_TMP/burst.sent" <<'PY'
import random, socket, sys, time
sys.path.insert(0, sys.argv[1])
from dhcp_probe import build, reply_type
server, mac, count, sent_file = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("192.0.2.77", 68))
xids = [random.getrandbits(32) for _ in range(count)]
for xid in xids:
    sock.sendto(build(mac, 1, xid), (server, 67))
open(sent_file, "w").write("SENT %d\n" % count)
offers, deadline = 0, time.time() + 12
pending = set(xids)
while pending and time.time() < deadline:
    sock.settimeout(max(0.05, deadline - time.time()))
    try:
        data, _ = sock.recvfrom(4096)
    except socket.timeout:
        break
    for xid in list(pending):
        if reply_type(data, xid) == "OFFER":
            pending.discard(xid)
            offers += 1
print("OFFERS %d" % offers)
PY
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
wait_for_file() { local tries=0; while [ ! -s "$1" ] && [ $tries -lt 100 ]; do sleep 0.05; tries=$((tries + 1)); done; }
# wait_daemon: waits for the daemon to exit by itself and sets `status`; after 60 s (a hang, not a
# slow host) it fails, kills it and sets status to "hung".
wait_daemon() {
    local tries=0
    while kill -0 "$E2E_SERVER_PID" 2>/dev/null && [ $tries -lt 600 ]; do sleep 0.1; tries=$((tries + 1)); done
    if kill -0 "$E2E_SERVER_PID" 2>/dev/null; then
        e2e_fail "the daemon exits after SIGTERM" "still running after 60 s"
        kill -KILL "$E2E_SERVER_PID"
        wait "$E2E_SERVER_PID" 2>/dev/null
        status=hung
    else
        wait "$E2E_SERVER_PID"
        status=$?
    fi
}

echo "SIGTERM with five requests in flight"
write_conf 0.4
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
sd_probe_address
e2e_assert_eq "pid file names the daemon" "$E2E_SERVER_PID" "$(cat "$pidfile" 2>/dev/null)"
rm -f "$E2E_TMP/burst.sent"
burst 5 >"$E2E_TMP/burst.out" &
client=$!
wait_for_file "$E2E_TMP/burst.sent"
sleep 0.2   # the first DISCOVER is inside the hook, the others wait behind it
started="$(now)"
kill -TERM "$E2E_SERVER_PID"
wait_daemon
took="$(elapsed "$started" "$(now)")"
E2E_SERVER_PID=
wait "$client"
e2e_assert_status "the daemon after SIGTERM" 0 "$status"
e2e_log "measured: SIGTERM to exit with 5 requests of 0.4 s in flight: $took s"
e2e_assert_eq "every request in flight was answered" "OFFERS 5" "$(cat "$E2E_TMP/burst.out")"
sd_log_has "shutdown logged" "System shutdown complete"
e2e_assert_not_contains "nothing abandoned" "still in flight" "$(cat "$E2E_TMP/server.log")"
e2e_assert_eq "pid file removed" gone "$([ -e "$pidfile" ] && echo present || echo gone)"

echo "a second SIGTERM exits at once"
write_conf 1.5
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
rm -f "$E2E_TMP/burst.sent"
burst 4 >"$E2E_TMP/burst.out" &
client=$!
wait_for_file "$E2E_TMP/burst.sent"
sleep 0.2
kill -TERM "$E2E_SERVER_PID"
sleep 0.3
started="$(now)"
kill -TERM "$E2E_SERVER_PID"
wait_daemon
took="$(elapsed "$started" "$(now)")"
E2E_SERVER_PID=
wait "$client"
e2e_log "measured: second SIGTERM to exit: $took s (exit status $status)"
# The four requests need 6 s of hook time; a daemon that waited for them would answer all four.
offers="$(sed -n 's/^OFFERS //p' "$E2E_TMP/burst.out")"
e2e_assert_eq "the second SIGTERM left requests unanswered (fewer than 4 OFFERs)" yes \
    "$([ -n "$offers" ] && [ "$offers" -lt 4 ] && echo yes || echo "no: OFFERS '${offers}'")"
e2e_assert_eq "the daemon exited (not killed by the signal)" yes "$([ "$status" != hung ] && [ "$status" -lt 128 ] && echo yes || echo "no: $status")"
sd_log_has "second signal logged" "Second stop signal"
e2e_assert_eq "pid file removed" gone "$([ -e "$pidfile" ] && echo present || echo gone)"
e2e_finish
