#!/usr/bin/env bash
# scripts/install into a temporary root (no namespaces, no systemd needed): the binary, conf.lua
# (never overwritten), the extensions directory and a systemd unit with the capabilities and
# hardening the README promises; `systemd-analyze verify` checks the unit when it is available.
set -u
source "$(dirname "$0")/lib.sh"

[ -x "$STATICDHCPD_BIN" ] || { e2e_fail "staticdhcpd binary exists" "not executable: $STATICDHCPD_BIN"; e2e_finish; }
E2E_TMP="$(mktemp -d /tmp/staticdhcpd-install.XXXXXX)"
trap '[ -z "${E2E_KEEP_TMP:-}" ] && rm -rf "$E2E_TMP"' EXIT
install_script="$E2E_ROOT/scripts/install"

echo "DESTDIR staging"
stage="$E2E_TMP/stage"
DESTDIR="$stage" "$install_script" --binary "$STATICDHCPD_BIN" >"$E2E_TMP/install.log" 2>&1
e2e_assert_status "install with DESTDIR" 0 $?
e2e_assert_eq "binary in /usr/local/sbin" yes "$([ -x "$stage/usr/local/sbin/staticdhcpd" ] && echo yes || echo no)"
e2e_assert_contains "installed binary runs" "staticdhcpd" "$("$stage/usr/local/sbin/staticdhcpd" --version 2>&1)"
conf="$stage/etc/staticDHCPd/conf.lua"
e2e_assert_eq "conf.lua in /etc/staticDHCPd" yes "$([ -f "$conf" ] && echo yes || echo no)"
e2e_assert_eq "extensions directory beside it" yes "$([ -d "$stage/etc/staticDHCPd/staticDHCPd_extensions" ] && echo yes || echo no)"
e2e_assert_eq "the shipped extensions in it" yes "$([ -f "$stage/etc/staticDHCPd/staticDHCPd_extensions/dynamism.lua" ] && echo yes || echo no)"
e2e_assert_eq "the store under /var/lib" 1 "$(grep -c '^STATE_DIRECTORY = "/var/lib/staticdhcpd"' "$stage/etc/staticDHCPd/conf.lua")"
e2e_assert_contains "conf.lua runs in the foreground" "DAEMON = false" "$(cat "$conf")"
e2e_assert_contains "conf.lua keeps its database in the state directory" 'SQLITE_FILE = "/var/lib/staticdhcpd/dhcp.sqlite3"' "$(cat "$conf")"
e2e_assert_contains "conf.lua has a PID_FILE for 'staticdhcpd reload'" 'PID_FILE = "/run/staticdhcpd/staticdhcpd.pid"' "$(cat "$conf")"
check="$("$STATICDHCPD_BIN" --check-config "$conf" 2>&1)"
e2e_assert_status "the installed conf.lua passes --check-config" 0 $?
unit="$stage/etc/systemd/system/staticdhcpd.service"
e2e_assert_eq "unit installed" yes "$([ -f "$unit" ] && echo yes || echo no)"
for line in 'Type=simple' \
    'ExecStart=/usr/local/sbin/staticdhcpd --config /etc/staticDHCPd/conf.lua --verbose' \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    'AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW' \
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'ReadWritePaths=-/var/lib/staticdhcpd -/var/log/staticdhcpd -/run/staticdhcpd' \
    'RestrictAddressFamilies=AF_INET AF_PACKET AF_UNIX AF_NETLINK' 'User=staticdhcpd'; do
    if grep -qxF -- "$line" "$unit"; then e2e_pass "unit has '$line'"; else e2e_fail "unit has '$line'" "$(cat "$unit")"; fi
done
e2e_assert_eq "no @PLACEHOLDER@ left in the unit" 0 "$(grep -cE '@[A-Z]+@' "$unit")"

echo "an existing conf.lua is never overwritten"
echo '-- edited by the operator' >>"$conf"
DESTDIR="$stage" "$install_script" --binary "$STATICDHCPD_BIN" >"$E2E_TMP/install2.log" 2>&1
e2e_assert_status "second install" 0 $?
e2e_assert_contains "the operator's conf.lua survives" "edited by the operator" "$(cat "$conf")"
e2e_assert_eq "the shipped one lands beside it" yes "$([ -f "$conf.dist" ] && echo yes || echo no)"
e2e_assert_contains "the install says so" "left as it is" "$(cat "$E2E_TMP/install2.log")"

echo "--prefix and friends"
root="$E2E_TMP/root"
"$install_script" --binary "$STATICDHCPD_BIN" --prefix "$root/opt" --sysconfdir "$root/etc" \
    --unitdir "$root/units" --user nobody --no-user >"$E2E_TMP/install3.log" 2>&1
e2e_assert_status "install with --prefix" 0 $?
e2e_assert_eq "binary under the prefix" yes "$([ -x "$root/opt/sbin/staticdhcpd" ] && echo yes || echo no)"
e2e_assert_contains "unit names the prefix" "ExecStart=$root/opt/sbin/staticdhcpd --config $root/etc/staticDHCPd/conf.lua --verbose" "$(cat "$root/units/staticdhcpd.service")"
bad="$("$install_script" --binary "$STATICDHCPD_BIN" --prefix relative/path 2>&1)"
e2e_assert_status "a relative --prefix" 2 $?
e2e_assert_contains "a relative --prefix is refused" "not an absolute path" "$bad"
"$install_script" --frobnicate >/dev/null 2>&1
e2e_assert_status "an unknown option" 2 $?

if command -v systemd-analyze >/dev/null; then
    # Real paths (the --prefix install), so verify can check that ExecStart's binary exists.
    sed -i 's/^User=nobody/User=root/; s/^Group=nobody/Group=root/' "$root/units/staticdhcpd.service"
    verify="$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$root/units/staticdhcpd.service" 2>&1)"
    status=$?
    e2e_log "systemd-analyze verify: ${verify:-no complaints}"
    e2e_assert_status "systemd-analyze verify" 0 "$status"
    # verify exits 0 even for unknown keys and unparsable values; it says "ignoring" for each.
    e2e_assert_not_contains "verify ignores no setting (unknown key or bad value)" "ignoring" "$verify"
else
    e2e_log "systemd-analyze is not installed; the unit's content was checked line by line only"
fi
e2e_finish
