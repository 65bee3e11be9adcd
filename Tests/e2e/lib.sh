# End-to-end test library: network namespaces, real DHCP clients, perfdhcp and assertions.
# Source it from a Tests/e2e/test-*.sh script (bash, run as root). Nothing happens until a function
# is called; e2e_setup builds the topology and arranges for everything to be removed on exit.
#
# Topology (RFC 5737 addresses only, everything inside namespaces this run creates):
#
#   $E2E_SRV_NS                         $E2E_CLI_NS
#   br0 192.0.2.1/24, 198.51.100.1/24   vc0 (DHCP clients; MAC set with e2e_client_mac)
#    +- vs0 <------- veth -------->     
#    +- vs1 <------- veth --------> $E2E_RLY_NS: vr0 198.51.100.2/24 (the "relay": perfdhcp, giaddr)
#
# The bridge lets one interface own the server address (so the daemon binds to br0) and still see
# both the clients' link and the relay path. Transmit checksum offload is off on every link, so raw
# sockets (udhcpc, dhclient) never see partial checksums.
#
# Tests with several servers add hosts on that link with e2e_bridge_ns (a namespace whose veth joins
# br0), register their own clean-up with e2e_on_cleanup, and can start a throw-away PostgreSQL in a
# namespace with e2e_pg_start (test-cluster.sh does all three).
#
# Environment: STATICDHCPD_BIN (the daemon, default .build/debug/staticdhcpd), E2E_KEEP_TMP=1 (keep
# $E2E_TMP with the logs, leases and captures), E2E_CLIENT_CONFIGURE=0 (client hooks leave the
# interface unconfigured).

E2E_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_ROOT="$(cd "$E2E_LIB_DIR/../.." && pwd)"
E2E_SERVER_IP=192.0.2.1
E2E_SERVER_RELAY_IP=198.51.100.1
E2E_RELAY_IP=198.51.100.2
E2E_CLIENT_IF=vc0
E2E_CLIENT_MAC=02:00:00:00:00:01
E2E_FAILURES=0
E2E_CHECKS=0
E2E_SERVER_PID=
E2E_TMP=
E2E_SRV_NS=
E2E_CLI_NS=
E2E_RLY_NS=
E2E_RUN=
# More namespaces made by e2e_bridge_ns, and commands e2e_on_cleanup registered (run first on exit).
E2E_EXTRA_NS=()
E2E_CLEANUP_HOOKS=()

# The daemon under test.
STATICDHCPD_BIN="${STATICDHCPD_BIN:-$E2E_ROOT/.build/debug/staticdhcpd}"

e2e_log() { printf '    %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Assertions: each prints what was expected and what was seen; failures are counted, and
# e2e_finish turns them into the exit status.

e2e_pass() { E2E_CHECKS=$((E2E_CHECKS + 1)); printf '  ok   %s\n' "$1"; }

e2e_fail() {
    E2E_CHECKS=$((E2E_CHECKS + 1))
    E2E_FAILURES=$((E2E_FAILURES + 1))
    printf '  FAIL %s\n' "$1"
    shift
    local line
    for line in "$@"; do printf '         %s\n' "$line"; done
}

# e2e_assert_eq WHAT EXPECTED SEEN
e2e_assert_eq() {
    if [ "$2" = "$3" ]; then e2e_pass "$1 = '$3'"
    else e2e_fail "$1" "expected: '$2'" "seen:     '$3'"; fi
}

# e2e_assert_contains WHAT NEEDLE HAYSTACK
e2e_assert_contains() {
    case "$3" in
        *"$2"*) e2e_pass "$1 contains '$2'" ;;
        *) e2e_fail "$1" "expected to contain: '$2'" "seen: '$3'" ;;
    esac
}

# e2e_assert_not_contains WHAT NEEDLE HAYSTACK
e2e_assert_not_contains() {
    case "$3" in
        *"$2"*) e2e_fail "$1" "expected not to contain: '$2'" "seen: '$3'" ;;
        *) e2e_pass "$1 lacks '$2'" ;;
    esac
}

# e2e_assert_status WHAT EXPECTED_STATUS SEEN_STATUS
e2e_assert_status() {
    if [ "$2" = "$3" ]; then e2e_pass "$1 exits $3"
    else e2e_fail "$1" "expected exit status: $2" "seen exit status:     $3"; fi
}

# e2e_assert_ge WHAT MINIMUM SEEN (integers)
e2e_assert_ge() {
    if [ -n "$3" ] && [ "$3" -ge "$2" ] 2>/dev/null; then e2e_pass "$1 = $3 (>= $2)"
    else e2e_fail "$1" "expected: >= $2" "seen:     '$3'"; fi
}

# e2e_env_get FILE KEY: the value of KEY=VALUE in a lease file written by a hook ('' when absent).
e2e_env_get() {
    [ -f "$1" ] || return 0
    sed -n "s/^$2=//p" "$1" | tail -n 1 | sed -e "s/^'//" -e "s/'$//"
}

# e2e_assert_env WHAT FILE KEY EXPECTED
e2e_assert_env() {
    e2e_assert_eq "$1 ($3)" "$4" "$(e2e_env_get "$2" "$3")"
}

# Prints the summary and exits: 0 when every check passed.
e2e_finish() {
    if [ "$E2E_FAILURES" -eq 0 ]; then
        printf '  %d checks passed\n' "$E2E_CHECKS"
        exit 0
    fi
    printf '  %d of %d checks failed\n' "$E2E_FAILURES" "$E2E_CHECKS"
    if [ -n "$E2E_TMP" ] && [ -s "$E2E_TMP/server.log" ]; then
        echo "  --- last lines of the server log ---"
        tail -n 30 "$E2E_TMP/server.log" | sed 's/^/  | /'
    fi
    exit 1
}

# Skips the whole test (run-all.sh reports SKIP) with a reason.
e2e_skip() { echo "  SKIP: $*"; exit 77; }

# ---------------------------------------------------------------------------------------------
# Topology

e2e_require_root() {
    [ "$(id -u)" -eq 0 ] || e2e_skip "needs root to create network namespaces"
    local tool
    for tool in ip ethtool; do
        command -v "$tool" >/dev/null || e2e_skip "'$tool' is not installed (scripts/lib/common.sh E2E_PACKAGES)"
    done
}

# Runs a setup command; when it fails, says which and stops the test (the EXIT trap cleans up).
e2e_must() {
    "$@" && return 0
    echo "  FAIL topology setup: '$*' failed" >&2
    exit 1
}

# Runs a command inside a namespace.
e2e_srv() { ip netns exec "$E2E_SRV_NS" "$@"; }
e2e_cli() { ip netns exec "$E2E_CLI_NS" "$@"; }
e2e_rly() { ip netns exec "$E2E_RLY_NS" "$@"; }

# Builds the topology with unique namespace names and a temporary directory ($E2E_TMP), and installs
# the EXIT trap that removes them (and stops anything started through this library).
e2e_setup() {
    e2e_require_root
    local run="sdh$$r$RANDOM"
    E2E_RUN="$run"
    E2E_SRV_NS="$run-srv"
    E2E_CLI_NS="$run-cli"
    E2E_RLY_NS="$run-rly"
    E2E_TMP="$(mktemp -d /tmp/staticdhcpd-e2e.XXXXXX)"
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM

    e2e_must ip netns add "$E2E_SRV_NS"
    e2e_must ip netns add "$E2E_CLI_NS"
    e2e_must ip netns add "$E2E_RLY_NS"
    local ns
    for ns in "$E2E_SRV_NS" "$E2E_CLI_NS" "$E2E_RLY_NS"; do
        e2e_must ip -n "$ns" link set lo up
        e2e_must ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    e2e_must ip link add vs0 netns "$E2E_SRV_NS" type veth peer "$E2E_CLIENT_IF" netns "$E2E_CLI_NS"
    e2e_must ip link add vs1 netns "$E2E_SRV_NS" type veth peer vr0 netns "$E2E_RLY_NS"
    e2e_must ip -n "$E2E_SRV_NS" link add br0 type bridge forward_delay 0 stp_state 0
    e2e_must ip -n "$E2E_SRV_NS" link set vs0 master br0
    e2e_must ip -n "$E2E_SRV_NS" link set vs1 master br0
    e2e_must ip -n "$E2E_SRV_NS" addr add "$E2E_SERVER_IP/24" dev br0
    e2e_must ip -n "$E2E_SRV_NS" addr add "$E2E_SERVER_RELAY_IP/24" dev br0
    e2e_must ip -n "$E2E_RLY_NS" addr add "$E2E_RELAY_IP/24" dev vr0
    e2e_must ip -n "$E2E_CLI_NS" link set "$E2E_CLIENT_IF" address "$E2E_CLIENT_MAC"
    for ns_if in "$E2E_SRV_NS:vs0" "$E2E_SRV_NS:vs1" "$E2E_SRV_NS:br0" "$E2E_CLI_NS:$E2E_CLIENT_IF" "$E2E_RLY_NS:vr0"; do
        e2e_must ip -n "${ns_if%%:*}" link set "${ns_if#*:}" up
        ip netns exec "${ns_if%%:*}" ethtool -K "${ns_if#*:}" tx off >/dev/null 2>&1 || true
    done
    # The bridge forwards only once its ports are up; wait until br0 reports carrier.
    local tries=0
    until ip -n "$E2E_SRV_NS" -br link show br0 | grep -q UP || [ $tries -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
}

# Stops what this library started and deletes the namespaces and temporary files.
e2e_cleanup() {
    local status=$?
    local hook
    for hook in "${E2E_CLEANUP_HOOKS[@]}"; do eval "$hook" >/dev/null 2>&1 || true; done
    E2E_CLEANUP_HOOKS=()
    e2e_udhcpc_stop
    [ -n "${E2E_CAPTURE_PID:-}" ] && kill "$E2E_CAPTURE_PID" 2>/dev/null
    e2e_stop_server
    local ns pid
    for ns in "${E2E_EXTRA_NS[@]}" "$E2E_SRV_NS" "$E2E_CLI_NS" "$E2E_RLY_NS"; do
        [ -n "$ns" ] || continue
        # Anything still running inside (a daemonised dhclient, say) dies with its namespace's processes.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    [ -n "$E2E_TMP" ] && [ -z "${E2E_KEEP_TMP:-}" ] && rm -rf "$E2E_TMP"
    exit "$status"
}

# e2e_on_cleanup COMMAND: COMMAND (eval'd, output discarded) runs on exit before anything else is
# removed; the last one registered runs first.
e2e_on_cleanup() { E2E_CLEANUP_HOOKS=("$1" "${E2E_CLEANUP_HOOKS[@]}"); }

# e2e_bridge_ns VAR NAME IFNAME [ADDRESS/PREFIX...]: one more namespace ("<run>-NAME", its name is
# stored in VAR) whose interface IFNAME is a veth joined to br0 in $E2E_SRV_NS, like a second host
# on the server's link; the addresses go on IFNAME. Deleted on exit with the others.
e2e_bridge_ns() {
    local var="$1" ns="$E2E_RUN-$2" ifname="$3" address
    shift 3
    [ -n "$E2E_RUN" ] || { echo "  FAIL topology setup: e2e_bridge_ns before e2e_setup" >&2; exit 1; }
    e2e_must ip netns add "$ns"
    E2E_EXTRA_NS+=("$ns")
    printf -v "$var" '%s' "$ns"
    e2e_must ip -n "$ns" link set lo up
    e2e_must ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    # The bridge-side end is named after the namespace's end (at most 15 characters).
    local port="b-$ifname"
    e2e_must ip link add "$ifname" netns "$ns" type veth peer "$port" netns "$E2E_SRV_NS"
    e2e_must ip -n "$E2E_SRV_NS" link set "$port" master br0
    for address in "$@"; do e2e_must ip -n "$ns" addr add "$address" dev "$ifname"; done
    e2e_must ip -n "$E2E_SRV_NS" link set "$port" up
    e2e_must ip -n "$ns" link set "$ifname" up
    ip netns exec "$E2E_SRV_NS" ethtool -K "$port" tx off >/dev/null 2>&1 || true
    ip netns exec "$ns" ethtool -K "$ifname" tx off >/dev/null 2>&1 || true
}

# e2e_ns_wait_udp NAMESPACE PORT [PID]: waits up to 10 s until something listens on UDP PORT in
# NAMESPACE; fails at once when PID (if given) has exited.
e2e_ns_wait_udp() {
    local ns="$1" port="$2" pid="${3:-}" tries=0
    while [ $tries -lt 100 ]; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        ip netns exec "$ns" ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && return 0
        sleep 0.1
        tries=$((tries + 1))
    done
    return 1
}

# Sets the client interface's MAC (to match a reservation, or to be unknown).
e2e_client_mac() {
    E2E_CLIENT_MAC="$1"
    ip -n "$E2E_CLI_NS" link set "$E2E_CLIENT_IF" address "$1"
}

# Removes any address a previous client configured on the client interface.
e2e_client_reset() { ip -n "$E2E_CLI_NS" addr flush dev "$E2E_CLIENT_IF"; }

# ---------------------------------------------------------------------------------------------
# The server

# e2e_start_server COMMAND...: runs COMMAND in the server namespace in the background, output to
# $E2E_TMP/server.log, and waits until something listens on UDP port ${E2E_SERVER_PORT:-67}.
e2e_start_server() {
    # Started directly (a function would fork a subshell), so that $! is the server itself.
    ip netns exec "$E2E_SRV_NS" "$@" >"$E2E_TMP/server.log" 2>&1 &
    E2E_SERVER_PID=$!
    e2e_wait_udp_listening "${E2E_SERVER_PORT:-67}" || {
        e2e_fail "server starts and listens on UDP ${E2E_SERVER_PORT:-67}" "command: $*"
        tail -n 20 "$E2E_TMP/server.log" | sed 's/^/         | /'
        return 1
    }
}

# e2e_start_staticdhcpd CONF_LUA [ARGS...]: starts the daemon under test with a configuration file.
e2e_start_staticdhcpd() {
    [ -x "$STATICDHCPD_BIN" ] || { e2e_fail "staticdhcpd binary exists" "not executable: $STATICDHCPD_BIN"; return 1; }
    local conf="$1"
    shift
    e2e_start_server "$STATICDHCPD_BIN" --config "$conf" "$@"
}

e2e_wait_udp_listening() {
    local port="$1" tries=0
    while [ $tries -lt 100 ]; do
        if [ -n "$E2E_SERVER_PID" ] && ! kill -0 "$E2E_SERVER_PID" 2>/dev/null; then return 1; fi
        e2e_srv ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && return 0
        sleep 0.1
        tries=$((tries + 1))
    done
    return 1
}

e2e_stop_server() {
    [ -n "$E2E_SERVER_PID" ] || return 0
    kill "$E2E_SERVER_PID" 2>/dev/null || true
    local tries=0
    while kill -0 "$E2E_SERVER_PID" 2>/dev/null && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
    kill -9 "$E2E_SERVER_PID" 2>/dev/null || true
    wait "$E2E_SERVER_PID" 2>/dev/null || true
    E2E_SERVER_PID=
}

# True while the server started by e2e_start_server is still running.
e2e_server_alive() { [ -n "$E2E_SERVER_PID" ] && kill -0 "$E2E_SERVER_PID" 2>/dev/null; }

# The server's CPU time (user + system) in clock ticks (see `getconf CLK_TCK`), from /proc/PID/stat.
e2e_server_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$E2E_SERVER_PID/stat"; }

# ---------------------------------------------------------------------------------------------
# Clients. Each writes the lease its hook saw to a KEY=VALUE file and prints that file's path;
# the exit status is the client's. Read values with e2e_env_get / e2e_assert_env.
# dhclient and dhcpcd use their own variable names (new_ip_address, new_routers, ...); udhcpc's are
# ip, subnet, router, dns, domain, hostname, ntpsrv, lease, serverid.

# Client hooks configure the leased address on the interface (as a real client would, and as
# unicast renewals need) unless E2E_CLIENT_CONFIGURE=0; e2e_client_reset removes it again.
E2E_CLIENT_CONFIGURE="${E2E_CLIENT_CONFIGURE:-1}"
E2E_UDHCPC_PID=

# Writes the udhcpc hook and prints its path: every event is appended to $E2E_TMP/udhcpc.events
# once its work is done;
# bound/renew write the lease to $E2E_TMP/udhcpc.lease.
e2e_udhcpc_hook() {
    local hook="$E2E_TMP/udhcpc-hook.sh"
    cat >"$hook" <<EOF
#!/bin/sh
case "\$1" in
    bound|renew)
        if [ "$E2E_CLIENT_CONFIGURE" = 1 ]; then
            ip addr flush dev "\$interface"
            ip addr add "\$ip/\${mask:-24}" dev "\$interface"
        fi
        # Written last, so that a waiter that sees the file also sees the address.
        { echo "event=\$1"; env | grep -E '^(ip|subnet|mask|router|dns|domain|hostname|ntpsrv|lease|serverid|broadcast|opt[0-9]+)=' ; } >"$E2E_TMP/udhcpc.lease.new"
        mv "$E2E_TMP/udhcpc.lease.new" "$E2E_TMP/udhcpc.lease" ;;
    deconfig) [ "$E2E_CLIENT_CONFIGURE" = 1 ] && ip addr flush dev "\$interface" ;;
esac
# Logged last: a waiter that counts this event also sees the lease file and the address.
echo "\$1" >>"$E2E_TMP/udhcpc.events"
exit 0
EOF
    chmod +x "$hook"
    echo "$hook"
}

# e2e_udhcpc [EXTRA UDHCPC ARGS...]: one DORA with busybox udhcpc, which quits once bound. Prints the
# lease file's path; the status is udhcpc's.
e2e_udhcpc() {
    local hook lease="$E2E_TMP/udhcpc.lease"
    hook="$(e2e_udhcpc_hook)"
    rm -f "$lease"
    e2e_cli timeout 30 busybox udhcpc -i "$E2E_CLIENT_IF" -f -q -n -t 3 -T 2 -s "$hook" \
        -O ntpsrv -O hostname -O domain "$@" >"$E2E_TMP/udhcpc.log" 2>&1
    local status=$?
    echo "$lease"
    return $status
}

# e2e_udhcpc_start [EXTRA ARGS...]: a udhcpc that stays running, so that it can renew and release.
# Waits up to 20 s for the lease; fails when none came. Run it without $(...) (it sets
# E2E_UDHCPC_PID); the lease is in $E2E_TMP/udhcpc.lease.
e2e_udhcpc_start() {
    local hook lease="$E2E_TMP/udhcpc.lease" tries=0
    hook="$(e2e_udhcpc_hook)"
    rm -f "$lease" "$E2E_TMP/udhcpc.events"
    # Started directly (not through a function, which would fork a subshell), so that $! is udhcpc:
    # `ip netns exec` execs its command in place.
    ip netns exec "$E2E_CLI_NS" busybox udhcpc -i "$E2E_CLIENT_IF" -f -t 3 -T 2 -s "$hook" \
        -O ntpsrv -O hostname -O domain "$@" >"$E2E_TMP/udhcpc.log" 2>&1 &
    E2E_UDHCPC_PID=$!
    while [ ! -s "$lease" ] && [ $tries -lt 200 ]; do sleep 0.1; tries=$((tries + 1)); done
    [ -s "$lease" ]
}

# How many times udhcpc reported event $1.
e2e_udhcpc_event_count() { grep -cx "$1" "$E2E_TMP/udhcpc.events" 2>/dev/null || true; }

# Waits up to 10 s until event $1 has been reported at least $2 times.
e2e_udhcpc_wait_event() {
    local tries=0
    while [ "$(e2e_udhcpc_event_count "$1")" -lt "$2" ] && [ $tries -lt 100 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    [ "$(e2e_udhcpc_event_count "$1")" -ge "$2" ]
}

# Asks the running udhcpc to renew (SIGUSR1: a unicast REQUEST from its address) and waits for the
# resulting renew event.
e2e_udhcpc_renew() {
    local before
    before="$(e2e_udhcpc_event_count renew)"
    kill -USR1 "$E2E_UDHCPC_PID"
    e2e_udhcpc_wait_event renew $((before + 1))
}

# Asks the running udhcpc to release its lease (SIGUSR2: DHCPRELEASE) and waits for its deconfig event.
e2e_udhcpc_release() {
    local before
    before="$(e2e_udhcpc_event_count deconfig)"
    kill -USR2 "$E2E_UDHCPC_PID"
    e2e_udhcpc_wait_event deconfig $((before + 1))
}

e2e_udhcpc_stop() {
    [ -n "$E2E_UDHCPC_PID" ] || return 0
    kill "$E2E_UDHCPC_PID" 2>/dev/null || true
    wait "$E2E_UDHCPC_PID" 2>/dev/null || true
    E2E_UDHCPC_PID=
}

# Writes the dhclient configuration and hook for e2e_dhclient / e2e_dhclient_release.
e2e_dhclient_files() {
    local dir="$E2E_TMP/dhclient"
    mkdir -p "$dir"
    cat >"$dir/dhclient.conf" <<'EOF'
timeout 15;
retry 1;
initial-interval 1;
request subnet-mask, broadcast-address, routers, domain-name-servers, domain-name, host-name,
        ntp-servers, dhcp-lease-time, dhcp-server-identifier;
EOF
    cat >"$dir/hook.sh" <<EOF
#!/bin/sh
echo "\$reason" >>"$dir/events"
case "\$reason" in
    BOUND|RENEW|REBIND|REBOOT)
        if [ "$E2E_CLIENT_CONFIGURE" = 1 ] && [ "\$new_ip_address" != "\$old_ip_address" ]; then
            ip addr flush dev "\$interface"
            ip addr add "\$new_ip_address/\${new_subnet_mask:-255.255.255.0}" dev "\$interface"
        fi
        { echo "reason=\$reason"; env | grep -E '^new_' ; } >"$dir/lease.env.new"
        mv "$dir/lease.env.new" "$dir/lease.env" ;;
    RELEASE|EXPIRE|STOP) [ "$E2E_CLIENT_CONFIGURE" = 1 ] && ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
    chmod +x "$dir/hook.sh"
}

# e2e_dhclient [EXTRA ARGS...]: one DORA with ISC dhclient; it daemonises once bound (so it can renew
# and release later); e2e_dhclient_release and the cleanup stop it.
e2e_dhclient() {
    e2e_dhclient_files
    local dir="$E2E_TMP/dhclient"
    rm -f "$dir/lease.env"
    e2e_cli timeout 40 dhclient -4 -1 -lf "$dir/leases" -pf "$dir/pid" -sf "$dir/hook.sh" -cf "$dir/dhclient.conf" \
        "$@" "$E2E_CLIENT_IF" >"$dir/log" 2>&1
    local status=$?
    echo "$dir/lease.env"
    return $status
}

# Sends a DHCPRELEASE from the running dhclient and stops it.
e2e_dhclient_release() {
    local dir="$E2E_TMP/dhclient"
    e2e_cli timeout 20 dhclient -4 -r -lf "$dir/leases" -pf "$dir/pid" -sf "$dir/hook.sh" -cf "$dir/dhclient.conf" \
        "$E2E_CLIENT_IF" >>"$dir/log" 2>&1
}

# e2e_dhcpcd [EXTRA ARGS...]: one DORA with dhcpcd, in a private mount namespace with tmpfs over /run
# and /var/lib so that it touches nothing on the host; noarp skips the 5 s probe. With
# E2E_DHCPCD_DBDIR set to a directory, that directory is dhcpcd's /var/lib/dhcpcd, so that its lease
# (and so the address it asks for) survives from one run to the next.
e2e_dhcpcd() {
    local dir="$E2E_TMP/dhcpcd"
    mkdir -p "$dir"
    cat >"$dir/dhcpcd.conf" <<'EOF'
noarp
ipv4only
noipv4ll
nohook resolv.conf, timezone, ntp, ypbind, hostname
option subnet_mask, routers, domain_name_servers, domain_name, host_name, ntp_servers, dhcp_lease_time
EOF
    cat >"$dir/hook.sh" <<EOF
#!/bin/sh
echo "\$reason" >>"$dir/events"
case "\$reason" in
    BOUND|RENEW|REBIND|REBOOT) { echo "reason=\$reason"; env | grep -E '^new_' ; } >"$dir/lease.env" ;;
esac
exit 0
EOF
    chmod +x "$dir/hook.sh"
    rm -f "$dir/lease.env"
    [ -n "${E2E_DHCPCD_DBDIR:-}" ] && mkdir -p "$E2E_DHCPCD_DBDIR"
    E2E_DHCPCD_DBDIR="${E2E_DHCPCD_DBDIR:-}" e2e_cli timeout 40 unshare -m --propagation private sh -c '
        mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib &&
        mkdir -p /run/dhcpcd /var/lib/dhcpcd &&
        { [ -z "$E2E_DHCPCD_DBDIR" ] || mount --bind "$E2E_DHCPCD_DBDIR" /var/lib/dhcpcd; } && exec "$@"' dhcpcd \
        dhcpcd -f "$dir/dhcpcd.conf" -c "$dir/hook.sh" -B -1 -4 -t 20 "$@" "$E2E_CLIENT_IF" >"$dir/log" 2>&1
    local status=$?
    echo "$dir/lease.env"
    return $status
}

# e2e_perfdhcp CLIENTS RATE SECONDS [EXTRA ARGS...]: perfdhcp as a relay (giaddr 198.51.100.2) from the
# relay namespace to the server's 198.51.100.1, clients 02:00:00:01:HH:LL (HHLL = 0..CLIENTS-1).
# Sets E2E_PERF_SENT, E2E_PERF_RECEIVED, E2E_PERF_DROPS, E2E_PERF_ORPHANS (DISCOVER-OFFER and
# REQUEST-ACK summed), E2E_PERF_REQUESTS (REQUESTs sent), E2E_PERF_EXCHANGES (completed REQUEST-ACK
# exchanges) and E2E_PERF_RATE (perfdhcp's rate line); the output is in $E2E_TMP/perfdhcp.log.
# perfdhcp counts a reply later than its drop time (-d, 1 s here) as a drop, and again as an
# "orphan" when it does arrive; after the test period it waits 2 s (-W) for replies still on their
# way. Its drop count is therefore a latency figure on a loaded host, not a count of lost clients:
# tests report it and assert on what the clients got.
e2e_perfdhcp() {
    local clients="$1" rate="$2" seconds="$3"
    shift 3
    command -v perfdhcp >/dev/null || { e2e_fail "perfdhcp is installed" "package kea-admin is missing"; return 1; }
    e2e_rly timeout $((seconds + 30)) perfdhcp -4 -l "$E2E_RELAY_IP" -R "$clients" -b mac=02:00:00:01:00:00 \
        -r "$rate" -p "$seconds" -d 1 -W 2000000 "$@" "$E2E_SERVER_RELAY_IP" >"$E2E_TMP/perfdhcp.log" 2>&1
    local status=$?
    e2e_parse_perfdhcp "$E2E_TMP/perfdhcp.log"
    return $status
}

# Reads perfdhcp's statistics blocks ("***Statistics for: DISCOVER-OFFER***", "...REQUEST-ACK***").
e2e_parse_perfdhcp() {
    local log="$1"
    E2E_PERF_SENT="$(awk -F': *' '/^sent packets:/ { s += $2 } END { print s + 0 }' "$log")"
    E2E_PERF_RECEIVED="$(awk -F': *' '/^received packets:/ { s += $2 } END { print s + 0 }' "$log")"
    E2E_PERF_DROPS="$(awk -F': *' '/^drops:/ { s += $2 } END { print s + 0 }' "$log")"
    E2E_PERF_ORPHANS="$(awk -F': *' '/^orphans:/ { s += $2 } END { print s + 0 }' "$log")"
    E2E_PERF_REQUESTS="$(awk -F': *' '/Statistics for: REQUEST-ACK/ { on = 1 } on && /^sent packets:/ { print $2; exit }' "$log")"
    E2E_PERF_REQUESTS="${E2E_PERF_REQUESTS:-0}"
    E2E_PERF_EXCHANGES="$(awk -F': *' '/Statistics for: REQUEST-ACK/ { on = 1 } on && /^received packets:/ { print $2; exit }' "$log")"
    E2E_PERF_EXCHANGES="${E2E_PERF_EXCHANGES:-0}"
    E2E_PERF_RATE="$(grep -m1 -E '^Rate:' "$log" || true)"
}

# ---------------------------------------------------------------------------------------------
# Packet capture on the client interface (tcpdump), to see how replies travel: the Ethernet
# destination (client MAC for a layer-2 unicast, ff:ff:ff:ff:ff:ff for a broadcast), the IP
# destination and the BOOTP flags.

# e2e_capture_start [FILTER]: starts capturing on the client interface (default: DHCP replies).
e2e_capture_start() {
    command -v tcpdump >/dev/null || { e2e_fail "tcpdump is installed" "add tcpdump to E2E_PACKAGES"; return 1; }
    local filter="${1:-udp and src port 67}" tries=0
    rm -f "$E2E_TMP/capture.pcap" "$E2E_TMP/capture.err"
    ip netns exec "$E2E_CLI_NS" tcpdump -i "$E2E_CLIENT_IF" --immediate-mode -Z root -nn -U -s 0 -w "$E2E_TMP/capture.pcap" $filter \
        2>"$E2E_TMP/capture.err" &
    E2E_CAPTURE_PID=$!
    while ! grep -q "listening on" "$E2E_TMP/capture.err" 2>/dev/null && [ $tries -lt 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
}

# Stops the capture and prints one line per packet (`tcpdump -e -v`: MACs, addresses, BOOTP flags).
e2e_capture_stop() {
    [ -n "${E2E_CAPTURE_PID:-}" ] || return 0
    sleep 0.3
    kill "$E2E_CAPTURE_PID" 2>/dev/null || true
    wait "$E2E_CAPTURE_PID" 2>/dev/null || true
    E2E_CAPTURE_PID=
    tcpdump -nn -e -v -r "$E2E_TMP/capture.pcap" 2>/dev/null | tr '\n' ' ' | sed 's/ \([0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.\)/\n\1/g'
    echo
}

# ---------------------------------------------------------------------------------------------
# A throw-away PostgreSQL (Debian's postgresql package), as Tests/DatabasesTests/PostgresTestServer
# makes one: initdb into a fresh directory under /tmp, run as the `postgres` user from /tmp, password
# (scram-sha-256) authentication over TCP, trust on its own unix socket (in that directory, used by
# e2e_pg_psql). Stopped and deleted on exit.

E2E_PG_DIR=
E2E_PG_NS=
E2E_PG_PORT=5432
E2E_PG_BIN=

# The newest /usr/lib/postgresql/N/bin holding initdb ('' when PostgreSQL is not installed).
e2e_pg_binaries() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

# Runs a PostgreSQL tool as postgres from /tmp (the postgres user may not enter the test's directory).
e2e_pg_tool() {
    local tool="$1"
    shift
    runuser -u postgres -- /usr/bin/env -C /tmp "$E2E_PG_BIN/$tool" "$@"
}

# e2e_pg_start NAMESPACE LISTEN_ADDRESS CLIENT_NETWORK DATABASE USER PASSWORD: initdb, start the
# server inside NAMESPACE listening on LISTEN_ADDRESS:$E2E_PG_PORT (a fresh namespace has the port
# free), let USER (owner of DATABASE) log in with PASSWORD from CLIENT_NETWORK (CIDR).
e2e_pg_start() {
    local ns="$1" listen="$2" network="$3" database="$4" user="$5" password="$6"
    E2E_PG_BIN="$(e2e_pg_binaries)" || { e2e_fail "PostgreSQL is installed" "no /usr/lib/postgresql/*/bin/initdb"; return 1; }
    E2E_PG_NS="$ns"
    E2E_PG_DIR="$(mktemp -d /tmp/staticdhcpd-e2e-pg.XXXXXX)"
    e2e_on_cleanup e2e_pg_cleanup
    mkdir -p "$E2E_PG_DIR/data"
    chown -R postgres:postgres "$E2E_PG_DIR"
    e2e_pg_tool initdb -D "$E2E_PG_DIR/data" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 \
        --no-sync >"$E2E_PG_DIR/initdb.log" 2>&1 || { e2e_fail "initdb" "$(tail -n 5 "$E2E_PG_DIR/initdb.log")"; return 1; }
    echo "host all all $network scram-sha-256" >>"$E2E_PG_DIR/data/pg_hba.conf"
    cat >>"$E2E_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '$listen'
port = $E2E_PG_PORT
unix_socket_directories = '$E2E_PG_DIR'
fsync = off
max_connections = 100
CONF
    e2e_pg_ctl start || return 1
    e2e_pg_psql postgres "CREATE ROLE \"$user\" LOGIN PASSWORD '$password'" &&
        e2e_pg_psql postgres "CREATE DATABASE \"$database\" OWNER \"$user\"" ||
        { e2e_fail "PostgreSQL: create the role and database"; return 1; }
}

# e2e_pg_ctl start|stop: (re)starts the server in its namespace, or stops it (-m fast), waiting.
e2e_pg_ctl() {
    case "$1" in
        start) ip netns exec "$E2E_PG_NS" runuser -u postgres -- /usr/bin/env -C /tmp "$E2E_PG_BIN/pg_ctl" \
                   -D "$E2E_PG_DIR/data" -l "$E2E_PG_DIR/server.log" -w -t 30 start >>"$E2E_PG_DIR/pg_ctl.log" 2>&1 ||
                   { e2e_fail "PostgreSQL starts" "$(tail -n 5 "$E2E_PG_DIR/server.log" 2>/dev/null)"; return 1; } ;;
        stop) e2e_pg_tool pg_ctl -D "$E2E_PG_DIR/data" -m fast -w -t 30 stop >>"$E2E_PG_DIR/pg_ctl.log" 2>&1 ;;
    esac
}

# e2e_pg_psql DATABASE SQL: runs SQL as the superuser over the unix socket; prints rows unaligned.
e2e_pg_psql() {
    e2e_pg_tool psql -X -q -A -t -h "$E2E_PG_DIR" -p "$E2E_PG_PORT" -U postgres -d "$1" -v ON_ERROR_STOP=1 -c "$2"
}

e2e_pg_cleanup() {
    [ -n "$E2E_PG_DIR" ] || return 0
    e2e_pg_tool pg_ctl -D "$E2E_PG_DIR/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    [ -n "${E2E_KEEP_TMP:-}" ] && [ -n "$E2E_TMP" ] && cp "$E2E_PG_DIR/server.log" "$E2E_TMP/postgresql.log" 2>/dev/null
    rm -rf "$E2E_PG_DIR"
    E2E_PG_DIR=
}
