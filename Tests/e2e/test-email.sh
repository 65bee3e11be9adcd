#!/usr/bin/env bash
# E-mail of CRITICAL records (EMAIL_*): an SMTP sink on the server namespace's 127.0.0.1 receives a
# CRITICAL record logged by conf.lua while serving (subject and body checked, AUTH used), the reply
# is not held up by the mail, an ERROR record is not mailed, and a start-up failure's CRITICAL
# record is mailed before the daemon exits 1.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
mails="$E2E_TMP/mails"
ip netns exec "$E2E_SRV_NS" python3 "$E2E_LIB_DIR/smtp_sink.py" --out "$mails" --auth "dhcp:secret" \
    >"$E2E_TMP/sink.out" 2>"$E2E_TMP/sink.err" &
sink=$!
tries=0
while ! grep -q '^PORT ' "$E2E_TMP/sink.out" 2>/dev/null && [ $tries -lt 100 ]; do sleep 0.05; tries=$((tries + 1)); done
port="$(sed -n 's/^PORT //p' "$E2E_TMP/sink.out")"
[ -n "$port" ] || { e2e_fail "the SMTP sink starts" "$(cat "$E2E_TMP/sink.err")"; e2e_finish; }
trap 'kill $sink 2>/dev/null; e2e_cleanup' EXIT

email_settings=(
    'EMAIL_ENABLED = true' 'EMAIL_SERVER = "127.0.0.1"' "EMAIL_PORT = $port" 'EMAIL_TIMEOUT = 3'
    'EMAIL_SOURCE = "dhcp@example.org"' 'EMAIL_DESTINATION = "ops@example.org, oncall@example.org"'
    'EMAIL_SUBJECT = "DHCP needs you"' 'EMAIL_USER = "dhcp"' 'EMAIL_PASSWORD = "secret"'
)
mail_count() { ls "$mails"/mail-*.json 2>/dev/null | wc -l; }
wait_mails() { local tries=0; while [ "$(mail_count)" -lt "$1" ] && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done; }
mail_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

echo "a CRITICAL record while serving"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" "${email_settings[@]}" \
    'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
    '  logger.error("an error for %s, not mailed", tostring(mac))' \
    '  logger.critical("the lease for %s needs attention", tostring(mac))' \
    '  return true' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
sd_probe_address
e2e_assert_eq "the reply goes out" ACK "$(sd_probe --type request --requested 192.0.2.10)"
wait_mails 1
sleep 0.5
e2e_assert_eq "one mail (the CRITICAL record, not the ERROR one)" 1 "$(mail_count)"
mail="$mails/mail-1.json"
data="$(mail_field "$mail" data)"
e2e_assert_contains "subject" "Subject: DHCP needs you" "$data"
e2e_assert_contains "body" "CRITICAL : the lease for $E2E_CLIENT_MAC needs attention" "$data"
e2e_assert_eq "recipients" "['<ops@example.org>', '<oncall@example.org>']" "$(mail_field "$mail" to)"
e2e_assert_eq "authenticated" PLAIN "$(mail_field "$mail" auth)"
e2e_stop_server

echo "a start-up failure is mailed before the daemon exits"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" "${email_settings[@]}"
sed -i 's/^DHCP_SERVER_IP = .*/DHCP_SERVER_IP = "203.0.113.9"/' "$E2E_TMP/conf.lua"
e2e_srv "$STATICDHCPD_BIN" --config "$E2E_TMP/conf.lua" >"$E2E_TMP/server.log" 2>&1
e2e_assert_status "the daemon that cannot bind" 1 $?
wait_mails 2
e2e_assert_eq "the start-up failure was mailed" 2 "$(mail_count)"
e2e_assert_contains "its body" "CRITICAL : Start-up failed" "$(mail_field "$mails/mail-2.json" data 2>/dev/null)"

echo "an unreachable mail server costs one ERROR line, not the daemon"
kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" "${email_settings[@]}" \
    'function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)' \
    '  logger.critical("critical for %s", tostring(mac))' \
    '  return true' \
    'end'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
for i in 1 2 3; do
    e2e_assert_eq "reply $i goes out without the mail server" ACK "$(sd_probe --type request --requested 192.0.2.10)"
done
sleep 1
e2e_assert_eq "mail failure logged once" 1 "$(grep -c 'E-mail of CRITICAL records to 127.0.0.1' "$E2E_TMP/server.log")"
e2e_assert_eq "daemon still running" yes "$(e2e_server_alive && echo yes || echo no)"
e2e_finish
