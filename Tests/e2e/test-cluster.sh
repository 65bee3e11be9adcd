#!/usr/bin/env bash
# Two daemons serving the same dynamism pools, as two hosts on one link: every broadcast reaches
# both, and perfdhcp drives the same 2,000 MACs through a relay at both at once. lease_check.py
# reads what each daemon put on the wire (a capture of its outgoing replies) and fails when an
# address was ACKed to two MACs, or a MAC was ACKed two addresses, while a lease was still valid.
#
#   CLUSTER_STORE=postgresql (default): both daemons keep `store` (so every dynamism lease) in one
#     PostgreSQL (STORE_ENGINE = "PostgreSQL") that this test starts; no conflict may appear. Also:
#     daemon B is SIGKILLed while perfdhcp runs and A must keep answering B's clients with the same
#     addresses; PostgreSQL is stopped and started while perfdhcp runs and both daemons must serve
#     again afterwards; both daemons are restarted and udhcpc, dhclient and dhcpcd must get their
#     previous pool addresses back.
#   CLUSTER_STORE=sqlite: each daemon keeps its own SQLite store (STATE_DIRECTORY), so each hands
#     out the pools on its own. This is the negative control: the checker must find duplicates.
#
# Topology (RFC 5737 only; everything in namespaces this run makes, deleted on exit):
#
#   srv ns: br0 203.0.113.1/24 (PostgreSQL), ports vs0, vs1, b-sa0, b-sb0
#     vs0 <-> cli ns vc0 (udhcpc, dhclient, dhcpcd; broadcasts reach both daemons)
#     vs1 <-> rly ns vr0 198.51.100.2/24 and 198.51.100.4/24 (perfdhcp to A, perfdhcp to B: giaddr)
#     b-sa0 <-> A ns sa0 192.0.2.1/24, 198.51.100.1/24, 203.0.113.11/24 (daemon A)
#     b-sb0 <-> B ns sb0 192.0.2.2/24, 198.51.100.3/24, 203.0.113.12/24 (daemon B)
#
# Each daemon has its own namespace: both bind 0.0.0.0:67 on their interface, and two such sockets
# in one namespace would share broadcasts but not unicast (the kernel hands a unicast datagram to
# only one of them), so a REQUEST meant for one daemon could reach the other.
#
# Environment: CLUSTER_STORE (above), CLUSTER_CLIENTS (perfdhcp MACs, default 2000), plus lib.sh's.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

mode="${CLUSTER_STORE:-postgresql}"
case "$mode" in
    sqlite | postgresql) ;;
    *) echo "  FAIL CLUSTER_STORE must be 'sqlite' or 'postgresql', not '$mode'"; exit 1 ;;
esac
clients="${CLUSTER_CLIENTS:-2000}"
echo "mode: CLUSTER_STORE=$mode, $clients perfdhcp clients"

e2e_require_root
for tool in perfdhcp tcpdump busybox dhclient dhcpcd python3; do
    command -v "$tool" >/dev/null || e2e_skip "'$tool' is not installed"
done
if [ "$mode" = postgresql ]; then
    e2e_pg_binaries >/dev/null || e2e_skip "PostgreSQL is not installed (Debian package postgresql)"
fi
[ -x "$STATICDHCPD_BIN" ] || { echo "  FAIL staticdhcpd binary is not executable: $STATICDHCPD_BIN"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Topology

declare -A NS IFACE SERVER_IP RELAY_SIDE PG_SIDE RELAY PID STARTS
SERVER_IP=([A]=192.0.2.1 [B]=192.0.2.2)
RELAY_SIDE=([A]=198.51.100.1 [B]=198.51.100.3)
PG_SIDE=([A]=203.0.113.11 [B]=203.0.113.12)
RELAY=([A]=198.51.100.2 [B]=198.51.100.4)
IFACE=([A]=sa0 [B]=sb0)
PID=([A]= [B]=)
STARTS=([A]=0 [B]=0)
PG_IP=203.0.113.1
PG_DATABASE=dhcpstore
PG_USER=staticdhcpd
PG_PASSWORD="e2e-$RANDOM$RANDOM"

e2e_setup
# The daemons live in their own namespaces; br0 keeps only the address PostgreSQL listens on.
e2e_must ip -n "$E2E_SRV_NS" addr flush dev br0
e2e_must ip -n "$E2E_SRV_NS" addr add "$PG_IP/24" dev br0
e2e_must ip -n "$E2E_RLY_NS" addr add "${RELAY[B]}/24" dev vr0
for name in A B; do
    e2e_bridge_ns "NS[$name]" "$(echo "$name" | tr AB ab)" "${IFACE[$name]}" \
        "${SERVER_IP[$name]}/24" "${RELAY_SIDE[$name]}/24" "${PG_SIDE[$name]}/24"
done

# ---------------------------------------------------------------------------------------------
# The daemons

# write_conf NAME [EXTRA LUA LINES...]: $E2E_TMP/NAME/conf.lua, both pools, every reply logged.
write_conf() {
    local name="$1" dir="$E2E_TMP/$1"
    shift
    mkdir -p "$dir/state"
    [ -e "$dir/staticDHCPd_extensions" ] || cp -r "$E2E_ROOT/staticDHCPd_extensions" "$dir/"
    [ -e "$dir/reservations.sqlite3" ] || "$STATICDHCPD_BIN" db init --file "$dir/reservations.sqlite3" >/dev/null
    cat >"$dir/conf.lua" <<LUA
DHCP_SERVER_IP = "${SERVER_IP[$name]}"
DAEMON = false
DATABASE_ENGINE = "SQLite"
SQLITE_FILE = "$dir/reservations.sqlite3"
WEB_ENABLED = true
WEB_IP = "${SERVER_IP[$name]}"
WEB_PORT = 30880
ALLOW_DHCP_RELAYS = true
ENABLE_SUSPEND = false
LOG_CONSOLE_SEVERITY = "INFO"
PID_FILE = "$dir/staticdhcpd.pid"
STATE_DIRECTORY = "$dir/state"
LUA
    local line
    for line in "$@"; do printf '%s\n' "$line" >>"$dir/conf.lua"; done
    cat >>"$dir/conf.lua" <<LUA

function init()
  extensions.dynamism.pools = {
    { name = "direct", subnet = "192.0.2.0/24", serial = 0, first = "192.0.2.10", last = "192.0.2.250",
      lease_time = 3600, hostname_prefix = "dyn", subnet_mask = "255.255.255.0", gateways = {"192.0.2.1"} },
    { name = "relayed", subnet = "198.51.100.0/24", serial = 0, first = "198.51.100.10", last = "198.51.100.250",
      lease_time = 3600, direct = false, subnet_mask = "255.255.255.0", gateways = {"198.51.100.1"} },
  }
  dynamism = require "dynamism"
  logger.info("extensions loaded: dynamism")
end

function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
  return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
end

function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  dynamism.loadDHCPPacket(packet, method, mac, definition)
  return true
end
LUA
}

# start_daemon NAME: starts it in its namespace (log appended to $E2E_TMP/NAME/server.log) and
# waits until it listens and init() has run.
start_daemon() {
    local name="$1" log="$E2E_TMP/$1/server.log" tries=0
    STARTS[$name]=$((STARTS[$name] + 1))
    echo "=== start ${STARTS[$name]} ===" >>"$log"
    ip netns exec "${NS[$name]}" "$STATICDHCPD_BIN" --config "$E2E_TMP/$name/conf.lua" >>"$log" 2>&1 &
    PID[$name]=$!
    if ! e2e_ns_wait_udp "${NS[$name]}" 67 "${PID[$name]}"; then
        e2e_fail "daemon $name (start ${STARTS[$name]}) listens on UDP 67" "$(tail -n 15 "$log")"
        return 1
    fi
    until [ "$(grep -c 'extensions loaded' "$log")" -ge "${STARTS[$name]}" ] || [ $tries -ge 100 ]; do
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.1
        tries=$((tries + 1))
    done
    if [ "$(grep -c 'extensions loaded' "$log")" -ge "${STARTS[$name]}" ]; then
        e2e_pass "daemon $name (start ${STARTS[$name]}) listens and ran init()"
    else
        e2e_fail "daemon $name (start ${STARTS[$name]}) ran init()" "$(tail -n 15 "$log")"
        return 1
    fi
}

# stop_daemon NAME [SIGNAL]: TERM (waits, then KILL) or the signal given; waits for the exit.
stop_daemon() {
    local name="$1" signal="${2:-TERM}" pid="${PID[$1]}" tries=0
    [ -n "$pid" ] || return 0
    # (stderr closed around kill and wait: bash would report a SIGKILLed job as "Killed".)
    {
        kill -"$signal" "$pid" || true
        while kill -0 "$pid" && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
        kill -9 "$pid" || true
        wait "$pid" || true
    } 2>/dev/null
    PID[$name]=
}
daemon_alive() { [ -n "${PID[$1]}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }
stop_daemons() { stop_daemon A; stop_daemon B; }
e2e_on_cleanup stop_daemons

# ---------------------------------------------------------------------------------------------
# Captures: what each daemon sent (its interface, outgoing, from port 67), one file per daemon for
# the whole run (a daemon's namespace outlives its restarts).

declare -A CAPTURE_PID
start_capture() {
    local name="$1" tries=0
    ip netns exec "${NS[$name]}" tcpdump -i "${IFACE[$name]}" -Q out --immediate-mode -Z root -nn -U -s 0 \
        -w "$E2E_TMP/$name.pcap" udp and src port 67 2>"$E2E_TMP/$name.capture.err" &
    CAPTURE_PID[$name]=$!
    until grep -q "listening on" "$E2E_TMP/$name.capture.err" 2>/dev/null || [ $tries -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    grep -q "listening on" "$E2E_TMP/$name.capture.err" ||
        e2e_fail "tcpdump captures ${IFACE[$name]} of daemon $name" "$(cat "$E2E_TMP/$name.capture.err")"
}
stop_captures() {
    local name
    sleep 0.5
    for name in A B; do
        [ -n "${CAPTURE_PID[$name]:-}" ] || continue
        kill -INT "${CAPTURE_PID[$name]}" 2>/dev/null
        wait "${CAPTURE_PID[$name]}" 2>/dev/null
        CAPTURE_PID[$name]=
    done
}
e2e_on_cleanup stop_captures

# lease_check [ARGS...]: the checker over both captures and both logs so far; its output goes to
# $E2E_TMP/lease_check.out and every ACK to $E2E_TMP/acks (TIME DAEMON MAC IP LEASE).
lease_check() {
    python3 "$E2E_LIB_DIR/lease_check.py" --events "$E2E_TMP/acks" \
        --log A="$E2E_TMP/A/server.log" --log B="$E2E_TMP/B/server.log" "$@" \
        A="$E2E_TMP/A.pcap" B="$E2E_TMP/B.pcap" >"$E2E_TMP/lease_check.out" 2>&1
}

# ---------------------------------------------------------------------------------------------
# Load

# perf TAG ORDER RATE SECONDS NAME...: perfdhcp from the relay namespace to each named daemon at
# once (giaddr RELAY[NAME]), all with the same $clients MACs 02:00:00:01:HH:LL, renewals at a
# quarter of the rate; waits for all. ORDER "sequential" (-b/-R): every instance walks the MACs in
# the same order, so each MAC reaches both daemons at about the same moment. ORDER "random" (-M: the
# same MACs in a file, shuffled differently for each instance and pass, since perfdhcp's own random
# picks from the file repeat from one instance to the next, -s or not): each daemon meets the MACs
# in its own order, as when packets reach one server and not the other. Only then do two daemons
# with separate stores diverge: the pool is handed out in a fixed order, so the same sequence of
# MACs gets the same addresses from both. Logs: $E2E_TMP/perf-TAG-NAME.log.
perf() {
    local tag="$1" order="$2" rate="$3" seconds="$4" name pids=() macs seed
    shift 4
    for name in "$@"; do
        if [ "$order" = random ]; then
            seed="$(printf '%s' "$tag-$name" | cksum | cut -d' ' -f1)"
            python3 -c "
import random, sys
macs = open(sys.argv[1]).read().split()
random.Random(int(sys.argv[2])).shuffle(macs)
print(*macs, sep='\\n')" "$E2E_TMP/macs.txt" "$seed" >"$E2E_TMP/macs-$tag-$name.txt"
            macs=(-M "$E2E_TMP/macs-$tag-$name.txt")
        else
            macs=(-R "$clients" -b mac=02:00:00:01:00:00)
        fi
        ip netns exec "$E2E_RLY_NS" timeout $((seconds + 30)) perfdhcp -4 -l "${RELAY[$name]}" "${macs[@]}" \
            -r "$rate" -f $((rate / 4)) -p "$seconds" -d 2 "${RELAY_SIDE[$name]}" >"$E2E_TMP/perf-$tag-$name.log" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
}
# perfdhcp's -b/-R clients: client k is 02:00:00:01:HH:LL with HHLL = k.
python3 -c "
import sys
for k in range(int(sys.argv[1])): print(f'02:00:00:01:{k >> 8:02x}:{k & 255:02x}')" "$clients" >"$E2E_TMP/macs.txt"

# perf_acks TAG NAME: ACKs perfdhcp received from NAME in round TAG (initial and renewal exchanges).
perf_acks() {
    awk -F': *' '/Statistics for: REQUEST-ACK/ { on = 1 } /Statistics for:/ && !/REQUEST-ACK/ { on = 0 }
        on && /^received packets:/ { s += $2 } END { print s + 0 }' "$E2E_TMP/perf-$1-$2.log"
}

perf_report() {
    local tag="$1" name
    shift
    for name in "$@"; do
        e2e_parse_perfdhcp "$E2E_TMP/perf-$tag-$name.log"
        e2e_log "perfdhcp: $tag -> daemon $name: sent $E2E_PERF_SENT, received $E2E_PERF_RECEIVED, REQUEST-ACK $(perf_acks "$tag" "$name")"
        grep -qiE "error|failed|unable" "$E2E_TMP/perf-$tag-$name.log" &&
            grep -iE "error|failed|unable" "$E2E_TMP/perf-$tag-$name.log" | head -3 | sed 's/^/         | /'
    done
}

# Real clients: each has its own MAC and keeps its files for the second round.
UDHCPC_MAC=02:00:00:00:00:11
DHCLIENT_MAC=02:00:00:00:00:12
DHCPCD_MAC=02:00:00:00:00:13
export E2E_DHCPCD_DBDIR="$E2E_TMP/dhcpcd-db"
declare -A CLIENT_IP

in_direct_pool() {
    case "$1" in 192.0.2.*) local last="${1##*.}"; [ "$last" -ge 10 ] && [ "$last" -le 250 ] ;; *) return 1 ;; esac
}

# real_clients ROUND: udhcpc, dhclient and dhcpcd, one after the other. Round 1 records each address
# (it must be in the direct pool); later rounds ask for it again (udhcpc -r, dhclient's lease file,
# dhcpcd's lease) and must get the same one.
real_clients() {
    local round="$1" lease ip
    e2e_client_reset
    e2e_client_mac "$UDHCPC_MAC"
    if [ "$round" = 1 ]; then lease="$(e2e_udhcpc)"; else lease="$(e2e_udhcpc -r "${CLIENT_IP[udhcpc]}")"; fi
    cp "$lease" "$E2E_TMP/udhcpc.lease.$round" 2>/dev/null
    check_client udhcpc "$round" "$(e2e_env_get "$lease" ip)" "$(e2e_env_get "$lease" serverid)"

    e2e_client_reset
    e2e_client_mac "$DHCLIENT_MAC"
    lease="$(e2e_dhclient)"
    check_client dhclient "$round" "$(e2e_env_get "$lease" new_ip_address)" "$(e2e_env_get "$lease" new_dhcp_server_identifier)"
    # Stop it without a RELEASE (SIGTERM); its lease file stays for the next round.
    [ -s "$E2E_TMP/dhclient/pid" ] && kill "$(cat "$E2E_TMP/dhclient/pid")" 2>/dev/null
    sleep 0.2

    e2e_client_reset
    e2e_client_mac "$DHCPCD_MAC"
    lease="$(e2e_dhcpcd)"
    check_client dhcpcd "$round" "$(e2e_env_get "$lease" new_ip_address)" "$(e2e_env_get "$lease" new_dhcp_server_identifier)"
    e2e_client_reset
}

check_client() {
    local client="$1" round="$2" ip="$3" server="$4"
    if [ "$round" = 1 ]; then
        CLIENT_IP[$client]="$ip"
        if in_direct_pool "$ip"; then e2e_pass "$client gets $ip from the direct pool (server $server)"
        else e2e_fail "$client gets an address from the direct pool 192.0.2.10-250" "seen: '$ip' (server '$server')"; fi
    elif [ -z "${CLIENT_IP[$client]}" ]; then
        e2e_fail "$client (round $round) keeps its address" "it got none in round 1; now: '$ip' (server '$server')"
    else
        e2e_assert_eq "$client (round $round, server $server) keeps its address" "${CLIENT_IP[$client]}" "$ip"
    fi
}

# ---------------------------------------------------------------------------------------------
# The store

if [ "$mode" = postgresql ]; then
    store_lines=(
        'STORE_ENGINE = "PostgreSQL"'
        "POSTGRESQL_HOST = \"$PG_IP\""
        "POSTGRESQL_PORT = $E2E_PG_PORT"
        "POSTGRESQL_DATABASE = \"$PG_DATABASE\""
        "POSTGRESQL_USERNAME = \"$PG_USER\""
        "POSTGRESQL_PASSWORD = \"$PG_PASSWORD\""
        'POSTGRESQL_SSLMODE = "disable"'
    )
    # --check-config validates STORE_ENGINE: an impossible value is named, PostgreSQL accepted.
    write_conf A 'STORE_ENGINE = "NoSuchStoreEngine"'
    bogus="$("$STATICDHCPD_BIN" --check-config "$E2E_TMP/A/conf.lua" 2>&1)"
    e2e_assert_status "--check-config rejects STORE_ENGINE = \"NoSuchStoreEngine\"" 1 $?
    e2e_assert_contains "the rejection names the setting" STORE_ENGINE "$bogus"
    e2e_pg_start "$E2E_SRV_NS" "$PG_IP" 203.0.113.0/24 "$PG_DATABASE" "$PG_USER" "$PG_PASSWORD" || e2e_finish
    e2e_pass "PostgreSQL runs on $PG_IP:$E2E_PG_PORT (database $PG_DATABASE, user $PG_USER)"
    # The daemons' view: TCP from each daemon's namespace, with their credentials.
    for name in A B; do
        seen="$(ip netns exec "${NS[$name]}" env PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 "$E2E_PG_BIN/psql" -X -A -t \
            -h "$PG_IP" -p "$E2E_PG_PORT" -U "$PG_USER" -d "$PG_DATABASE" -c "SELECT 'reachable'" 2>&1)"
        e2e_assert_eq "PostgreSQL from daemon $name's namespace as $PG_USER" reachable "$seen"
    done
else
    store_lines=()
fi
for name in A B; do
    write_conf "$name" "${store_lines[@]}"
    "$STATICDHCPD_BIN" --check-config "$E2E_TMP/$name/conf.lua" >"$E2E_TMP/$name/check-config.out" 2>&1
    e2e_assert_status "daemon $name's conf.lua passes --check-config" 0 $?
done

start_capture A
start_capture B
start_daemon A || e2e_finish
start_daemon B || e2e_finish

# ---------------------------------------------------------------------------------------------
echo "1. real clients (broadcasts reach both daemons)"
real_clients 1

echo "2. perfdhcp: the same $clients MACs through the relay to both daemons at once, each in its own order"
if [ "$mode" = postgresql ]; then
    perf pass1 random 100 12 A B &
    load=$!
    sleep 6
    # Mid-run: daemon B dies without a chance to clean up.
    stop_daemon B KILL
    kill_time=$(date +%s.%N)
    e2e_log "daemon B SIGKILLed at $(date +%T) while perfdhcp runs"
    wait "$load"
    e2e_assert_eq "daemon B is gone after SIGKILL" no "$(daemon_alive B && echo yes || echo no)"
    e2e_assert_eq "daemon A survives" yes "$(daemon_alive A && echo yes || echo no)"
else
    perf pass1 random 100 12 A B
fi
perf_report pass1 A B
e2e_assert_ge "ACKs perfdhcp received from daemon A in pass 1" 20 "$(perf_acks pass1 A)"
e2e_assert_ge "ACKs perfdhcp received from daemon B in pass 1" 20 "$(perf_acks pass1 B)"

if [ "$mode" = postgresql ]; then
    echo "3. the same MACs come back to the survivor (A) only"
    perf pass2 sequential 200 10 A
    perf_report pass2 A
    e2e_assert_ge "ACKs from daemon A in pass 2" 20 "$(perf_acks pass2 A)"
    lease_check
    # MACs daemon B ACKed before it died, and A ACKed after: same address every time.
    read -r served same <<<"$(awk -v t="$kill_time" '
        $2 == "B" && $1 < t { b[$3] = $4 }
        $2 == "A" && $1 > t && ($3 in b) { seen[$3] = 1; if (b[$3] != $4) differ[$3] = 1 }
        END { n = 0; d = 0; for (m in seen) n++; for (m in differ) d++; print n, n - d }' "$E2E_TMP/acks")"
    e2e_assert_ge "MACs daemon B served before its death that A served afterwards" 1 "$served"
    e2e_assert_eq "of those, MACs that A gave B's address" "$served" "$same"

    echo "4. B restarts; PostgreSQL stops and starts while perfdhcp runs"
    start_daemon B || e2e_finish
    perf pass3 random 100 12 A B &
    load=$!
    sleep 4
    e2e_pg_ctl stop
    e2e_assert_status "pg_ctl stop -m fast" 0 $?
    e2e_log "PostgreSQL stopped at $(date +%T)"
    sleep 3
    e2e_pg_ctl start
    e2e_assert_status "pg_ctl start" 0 $?
    pg_back=$(date +%s.%N)
    e2e_log "PostgreSQL started again at $(date +%T)"
    wait "$load"
    perf_report pass3 A B
    e2e_assert_eq "daemon A still runs after the PostgreSQL restart" yes "$(daemon_alive A && echo yes || echo no)"
    e2e_assert_eq "daemon B still runs after the PostgreSQL restart" yes "$(daemon_alive B && echo yes || echo no)"

    echo "5. both daemons serve again after PostgreSQL's restart"
    perf pass4 sequential 200 10 A B
    perf_report pass4 A B
    e2e_assert_ge "ACKs perfdhcp received from daemon A in pass 4" 10 "$(perf_acks pass4 A)"
    e2e_assert_ge "ACKs perfdhcp received from daemon B in pass 4" 10 "$(perf_acks pass4 B)"
    lease_check
    for name in A B; do
        e2e_assert_ge "ACKs on the wire from daemon $name after PostgreSQL came back" 10 \
            "$(awk -v t="$pg_back" -v n="$name" '$2 == n && $1 > t' "$E2E_TMP/acks" | wc -l)"
    done

    echo "6. both daemons restart; the real clients ask for their addresses again"
    stop_daemons
    start_daemon A || e2e_finish
    start_daemon B || e2e_finish
    real_clients 2

    tables="$(e2e_pg_psql "$PG_DATABASE" "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" 2>&1)"
    e2e_assert_ge "tables the daemons made in PostgreSQL (the store lives there)" 1 "$tables"
    # Each daemon sees the other in the shared store (a heartbeat every 5 s).
    peers=0
    for _ in $(seq 30); do
        peers="$(ip netns exec "${NS[A]}" curl -fs "http://${SERVER_IP[A]}:30880/api/status" 2>/dev/null |
            python3 -c 'import json, sys; d = json.load(sys.stdin); print(sum(1 for p in d["peers"] if p["secondsSinceHeard"] < 15))' 2>/dev/null || echo 0)"
        [ "$peers" -ge 2 ] && break
        sleep 1
    done
    e2e_assert_eq "daemon A's /api/status lists both daemons as peers heard within 15 s" 2 "$peers"
    e2e_assert_contains "daemon B's /metrics counts the peers" "staticdhcpd_peers 2" \
        "$(ip netns exec "${NS[B]}" curl -fs "http://${SERVER_IP[B]}:30880/metrics")"
    # `staticdhcpd leases` reads the shared store from either daemon's conf.lua, and a release
    # made through one is seen through the other.
    leases_of() { ip netns exec "${NS[$1]}" "$STATICDHCPD_BIN" leases list --config "$E2E_TMP/$1/conf.lua" 2>/dev/null; }
    leases_of A >"$E2E_TMP/leases-A.txt"
    e2e_assert_ge "leases list (daemon A's conf.lua) shows the pool leases" 200 "$(grep -c $'\tbound\t' "$E2E_TMP/leases-A.txt")"
    e2e_assert_eq "daemon B's conf.lua lists the same leases" "$(sort "$E2E_TMP/leases-A.txt" | md5sum)" "$(leases_of B | sort | md5sum)"
    victim="$(awk -F'\t' '$1 == "relayed" && $4 == "bound" { print $2; exit }' "$E2E_TMP/leases-A.txt")"
    ip netns exec "${NS[B]}" "$STATICDHCPD_BIN" leases release "$victim" --config "$E2E_TMP/B/conf.lua" >"$E2E_TMP/release.out" 2>&1
    e2e_assert_status "leases release $victim (through daemon B's conf.lua)" 0 $?
    e2e_assert_eq "the released lease is gone for daemon A's conf.lua too" 0 "$(leases_of A | grep -c "$victim")"
    for name in A B; do
        [ -e "$E2E_TMP/$name/state/store.sqlite3" ] &&
            e2e_log "note: daemon $name also has $E2E_TMP/$name/state/store.sqlite3"
    done
else
    echo "3. the same MACs come back to both daemons, in the same order"
    perf pass2 sequential 200 10 A B
    perf_report pass2 A B
fi

echo "7. lease_check over both daemons' replies"
stop_captures
for name in A B; do
    dropped="$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$E2E_TMP/$name.capture.err")"
    e2e_assert_eq "packets the kernel dropped from daemon $name's capture" 0 "${dropped:-?}"
done
lease_check
status=$?
sed 's/^/    | /' "$E2E_TMP/lease_check.out"
summary="$(grep -m1 '^lease_check:' "$E2E_TMP/lease_check.out")"
duplicates="$(printf '%s' "$summary" | sed -n 's/.*; duplicates \([0-9]*\) addresses.*/\1/p')"
for name in A B; do
    e2e_assert_ge "ACKs daemon $name put on the wire" 20 "$(awk -v n="$name" '$2 == n' "$E2E_TMP/acks" | wc -l)"
done
e2e_assert_eq "logged ACKs missing from the captures" 0 \
    "$(printf '%s' "$summary" | sed -n 's/.*logged ACKs missing from the captures \([0-9]*\).*/\1/p')"
if [ "$mode" = postgresql ]; then
    e2e_assert_status "lease_check: no address ACKed to two MACs, no MAC ACKed two addresses" 0 "$status"
else
    # The negative control: two daemons with separate stores hand the same addresses to different MACs.
    e2e_assert_status "lease_check finds the conflicts of two separate SQLite stores (negative control)" 1 "$status"
    e2e_assert_ge "addresses lease_check reports as duplicates" 1 "${duplicates:-0}"
fi

errors=$(cat "$E2E_TMP/A/server.log" "$E2E_TMP/B/server.log" | grep -c "CRITICAL" || true)
e2e_log "CRITICAL lines in the daemons' logs: $errors; ERROR lines: $(cat "$E2E_TMP/A/server.log" "$E2E_TMP/B/server.log" | grep -c "ERROR" || true)"
if [ "$E2E_FAILURES" -ne 0 ]; then
    for name in A B; do
        echo "  --- last lines of daemon $name's log ---"
        tail -n 15 "$E2E_TMP/$name/server.log" | sed 's/^/  | /'
    done
fi
e2e_finish
