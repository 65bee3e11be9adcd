#!/usr/bin/env bash
# Reservations in PostgreSQL's own column types (MACADDR, INET, CIDR, SMALLINT; docs/DEPLOYMENT.md,
# "The reservation tables"): udhcpc, dhclient and dhcpcd get their reserved address and options;
# `staticdhcpd db check` says the database will work, and names the grant once SELECT is revoked,
# which the daemon then logs as a configuration error, not as an outage.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

PG_DATABASE=dhcp
PG_USER=staticdhcpd
PG_PASSWORD=e2e-secret

e2e_setup
e2e_pg_start "$E2E_SRV_NS" 127.0.0.1 127.0.0.1/32 "$PG_DATABASE" "$PG_USER" "$PG_PASSWORD" || e2e_finish
e2e_pg_psql "$PG_DATABASE" "
CREATE TABLE subnets (subnet CIDR NOT NULL, serial SMALLINT NOT NULL DEFAULT 0, lease_time INTEGER NOT NULL,
    gateway INET, subnet_mask INET, broadcast_address INET, ntp_servers TEXT, domain_name_servers TEXT,
    domain_name TEXT, PRIMARY KEY (subnet, serial));
CREATE TABLE maps (mac MACADDR PRIMARY KEY, ip INET NOT NULL, hostname TEXT, subnet CIDR NOT NULL,
    serial SMALLINT NOT NULL DEFAULT 0, UNIQUE (ip, subnet, serial),
    FOREIGN KEY (subnet, serial) REFERENCES subnets (subnet, serial));
INSERT INTO subnets VALUES ('192.0.2.0/24', 0, 3600, '192.0.2.1', '255.255.255.0', '192.0.2.255',
    '192.0.2.123', '192.0.2.53,192.0.2.54', 'example.org');
-- upper case on purpose: a MACADDR compares addresses, not text
INSERT INTO maps VALUES ('${E2E_CLIENT_MAC^^}', '192.0.2.10', 'alpha', '192.0.2.0/24', 0);
GRANT SELECT ON maps, subnets TO $PG_USER;" >/dev/null || e2e_fail "the native-types schema is created"

sd_conf "$E2E_TMP/conf.lua" unused 'DHCP_RESPONSE_INTERFACE = "-"' \
    'DATABASE_ENGINE = "PostgreSQL"' \
    'POSTGRESQL_HOST = "127.0.0.1"' \
    "POSTGRESQL_PORT = $E2E_PG_PORT" \
    "POSTGRESQL_DATABASE = \"$PG_DATABASE\"" \
    "POSTGRESQL_USERNAME = \"$PG_USER\"" \
    "POSTGRESQL_PASSWORD = \"$PG_PASSWORD\"" \
    'POSTGRESQL_SSLMODE = "disable"'
# sd_conf writes the SQLite lines first; the later DATABASE_ENGINE wins.

check="$(ip netns exec "$E2E_SRV_NS" "$STATICDHCPD_BIN" db check --config "$E2E_TMP/conf.lua" 2>&1)"
e2e_assert_status "db check: the native-types database will work" 0 $?
e2e_assert_contains "db check lists maps.mac as macaddr" macaddr "$check"
printf '%s\n' "$check" | sed 's/^/    | /'

e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish

echo "udhcpc"
lease="$(e2e_udhcpc)"
e2e_assert_status "udhcpc gets a lease" 0 $?
e2e_assert_env "udhcpc ip" "$lease" ip 192.0.2.10
e2e_assert_env "udhcpc mask" "$lease" subnet 255.255.255.0
e2e_assert_env "udhcpc router" "$lease" router 192.0.2.1
e2e_assert_env "udhcpc dns" "$lease" dns "192.0.2.53 192.0.2.54"
e2e_assert_env "udhcpc hostname" "$lease" hostname alpha
e2e_assert_env "udhcpc lease time" "$lease" lease 3600

echo "dhclient"
e2e_client_reset
lease="$(e2e_dhclient)"
e2e_assert_status "dhclient gets a lease" 0 $?
e2e_assert_env "dhclient ip" "$lease" new_ip_address 192.0.2.10
e2e_assert_env "dhclient routers" "$lease" new_routers 192.0.2.1
e2e_assert_env "dhclient broadcast" "$lease" new_broadcast_address 192.0.2.255
e2e_dhclient_release

echo "dhcpcd"
e2e_client_reset
lease="$(e2e_dhcpcd)"
e2e_assert_status "dhcpcd gets a lease" 0 $?
e2e_assert_env "dhcpcd ip" "$lease" new_ip_address 192.0.2.10
e2e_assert_env "dhcpcd domain" "$lease" new_domain_name example.org

echo "a missing grant is a configuration error"
e2e_pg_psql "$PG_DATABASE" "REVOKE SELECT ON subnets FROM $PG_USER" >/dev/null
check="$(ip netns exec "$E2E_SRV_NS" "$STATICDHCPD_BIN" db check --config "$E2E_TMP/conf.lua" 2>&1)"
e2e_assert_status "db check: the daemon will not work without SELECT on subnets" 1 $?
e2e_assert_contains "db check names the grant" "GRANT SELECT" "$check"
printf '%s\n' "$check" | sed 's/^/    | /'
# A lookup against the broken grant: the daemon's cache would hide it, so a MAC it has not seen.
sd_probe_address
sd_probe --mac 02:00:00:00:00:42 --timeout 1 >/dev/null 2>&1 || true
sleep 1
sd_log_has "the daemon logs the rejected lookup as a configuration error" "configuration error, not an outage"
if grep -q "PostgreSQL database unavailable" "$E2E_TMP/server.log"; then
    e2e_fail "the grant is not reported as an outage" "$(grep -m1 'unavailable' "$E2E_TMP/server.log")"
else
    e2e_pass "the grant is not reported as an outage"
fi

e2e_finish
