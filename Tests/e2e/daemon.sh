# Helpers for the end-to-end tests of staticdhcpd itself (sourced after lib.sh).

# sd_database FILE: an SQLite database made with `staticdhcpd db`, holding subnet 192.0.2.0/24 and
# a reservation of 192.0.2.10 for the client interface's MAC ($E2E_CLIENT_MAC).
sd_database() {
    local db="$1"
    "$STATICDHCPD_BIN" db init --file "$db" >/dev/null || return 1
    "$STATICDHCPD_BIN" db subnet add 192.0.2.0/24 --file "$db" --lease-time 3600 --gateway 192.0.2.1 \
        --subnet-mask 255.255.255.0 --broadcast-address 192.0.2.255 --domain-name example.org \
        --dns 192.0.2.53,192.0.2.54 --ntp 192.0.2.123 >/dev/null || return 1
    "$STATICDHCPD_BIN" db add "$E2E_CLIENT_MAC" 192.0.2.10 --subnet 192.0.2.0/24 --hostname alpha --file "$db" >/dev/null
}

# sd_conf FILE DB [LUA...]: a conf.lua serving DB on the test topology; extra Lua lines are appended.
sd_conf() {
    local conf="$1" db="$2"
    shift 2
    cat >"$conf" <<LUA
DHCP_SERVER_IP = "$E2E_SERVER_IP"
DAEMON = false
DATABASE_ENGINE = "SQLite"
SQLITE_FILE = "$db"
WEB_ENABLED = false
LOG_CONSOLE_SEVERITY = "DEBUG"
PID_FILE = "$E2E_TMP/staticdhcpd.pid"
LUA
    local line
    for line in "$@"; do printf '%s\n' "$line" >>"$conf"; done
}

# sd_log_has WHAT PATTERN: asserts that the daemon's log has a line matching PATTERN.
sd_log_has() {
    local seen
    seen="$(grep -E -m1 -- "$2" "$E2E_TMP/server.log" || true)"
    if [ -n "$seen" ]; then e2e_pass "$1"; else e2e_fail "$1" "no line matching /$2/ in the daemon's log"; fi
}

# sd_probe ARGS...: dhcp_probe.py from the client namespace (the client interface gets 192.0.2.77).
sd_probe() {
    e2e_cli python3 "$E2E_LIB_DIR/dhcp_probe.py" --server "$E2E_SERVER_IP" --source 192.0.2.77 "$@"
}

sd_probe_address() {
    e2e_cli ip addr add 192.0.2.77/24 dev "$E2E_CLIENT_IF" 2>/dev/null || true
}

# sd_perf_database FILE CLIENTS: reservations for perfdhcp's clients 02:00:00:01:HH:LL (HHLL = k,
# as perfdhcp -b mac=02:00:00:01:00:00 -R numbers them) in 198.51.100.0/24. perfdhcp never configures the addresses, so the clients
# share the subnet's 250 addresses across serials (UNIQUE(ip, subnet, serial) holds).
sd_perf_database() {
    local db="$1" count="$2"
    "$STATICDHCPD_BIN" db init --file "$db" >/dev/null || return 1
    python3 - "$db" "$count" <<'PY'
import sqlite3, sys
db, count = sys.argv[1], int(sys.argv[2])
connection = sqlite3.connect(db)
for serial in range(0, (count - 1) // 250 + 1):
    connection.execute("INSERT INTO subnets (subnet, serial, lease_time, gateway, subnet_mask) VALUES ('198.51.100.0/24', ?, 3600, '198.51.100.1', '255.255.255.0')", (serial,))
for k in range(count):
    connection.execute("INSERT INTO maps (mac, ip, subnet, serial) VALUES (?, ?, '198.51.100.0/24', ?)",
                       (f"02:00:00:01:{k >> 8:02x}:{k & 255:02x}", f"198.51.100.{k % 250 + 3}", k // 250))
connection.commit()
PY
}

# sd_tagged_conf FILE DB TAG [LUA...]: sd_conf at INFO level plus a loadDHCPPacket that puts domain
# name TAG.example in every reply, so a probe (--show-option 15) tells which conf.lua answered.
sd_tagged_conf() {
    local conf="$1" db="$2" tag="$3"
    shift 3
    sd_conf "$conf" "$db" 'LOG_CONSOLE_SEVERITY = "INFO"' \
        'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
        "  packet:setOption(\"domain_name\", \"$tag.example\")" \
        '  return true' \
        'end' "$@"
}

# sd_hold_port udp|tcp ADDRESS PORT: another program takes ADDRESS:PORT in the server namespace
# (without SO_REUSEADDR, so nobody can share it) for a minute; returns once it holds the port.
# Its pid is left in SD_HOLDER_PID.
sd_hold_port() {
    local kind="$1" address="$2" port="$3" flag=-Hlun
    [ "$kind" = tcp ] && flag=-Hltn
    ip netns exec "$E2E_SRV_NS" python3 -c '
import socket, sys, time
kind, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
held = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
held.bind((address, port))
if kind == "tcp":
    held.listen()
time.sleep(60)' "$kind" "$address" "$port" &
    SD_HOLDER_PID=$!
    local tries=0
    until e2e_srv ss "$flag" "sport = :$port" | grep -q . || [ $tries -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
}

# sd_reload_setup: e2e_setup, then the client's reservation database in $db and the conf.lua path in
# $conf, for tests that rewrite conf.lua (write_conf below) and reload it.
sd_reload_setup() {
    e2e_setup
    db="$E2E_TMP/dhcp.sqlite3"
    sd_database "$db"
    conf="$E2E_TMP/conf.lua"
}
