#!/usr/bin/env bash
# A DISCOVER whose last option the datagram's end cuts off (an option claiming more bytes than remain,
# or a lone code byte) is answered from the options before it, on the segment and through the relay,
# and counted in /metrics and at DEBUG in the log (docs/PROTOCOL.md §6 item 17).
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon.sh"

e2e_setup
sd_database "$E2E_TMP/dhcp.sqlite3"
sd_conf "$E2E_TMP/conf.lua" "$E2E_TMP/dhcp.sqlite3" 'ALLOW_DHCP_RELAYS = true' 'ENABLE_SUSPEND = false' \
    'WEB_ENABLED = true' "WEB_IP = \"$E2E_SERVER_IP\"" 'WEB_PORT = 30880'
e2e_start_staticdhcpd "$E2E_TMP/conf.lua" || e2e_finish
sd_probe_address

# relay_probe ARGS...: dhcp_probe.py as a relay agent (giaddr 198.51.100.2) from the relay namespace.
relay_probe() {
    e2e_rly python3 "$E2E_LIB_DIR/dhcp_probe.py" --server "$E2E_SERVER_RELAY_IP" --source "$E2E_RELAY_IP" \
        --giaddr "$E2E_RELAY_IP" "$@"
}

e2e_assert_eq "an intact DISCOVER gets its OFFER (baseline)" OFFER "$(sd_probe --type discover)"
e2e_assert_eq "segment: option 12 claiming 200 bytes with 5 left gets an OFFER" OFFER \
    "$(sd_probe --type discover --truncate overlong)"
e2e_assert_eq "segment: a lone trailing code byte gets an OFFER" OFFER "$(sd_probe --type discover --truncate code)"
e2e_assert_eq "relay: option 12 claiming 200 bytes with 5 left gets an OFFER" OFFER \
    "$(relay_probe --type discover --truncate overlong)"
e2e_assert_eq "relay: a lone trailing code byte gets an OFFER" OFFER "$(relay_probe --type discover --truncate code)"
sd_log_has "the cut-off option is logged at DEBUG" "DEBUG.*cut off: option 12 at offset [0-9]+ declares 200 bytes but only 5 remain"
# The dashboard's copy of the counters follows the engine's within a tick: read until it has caught up.
metrics=""
for _ in $(seq 1 20); do
    metrics="$(e2e_srv curl -fs "http://$E2E_SERVER_IP:30880/metrics")"
    case "$metrics" in *"staticdhcpd_replies_sent_total{type=\"all\"} 5"*) break ;; esac
    sleep 0.5
done
e2e_assert_contains "/metrics counts the four truncated DISCOVERs" "staticdhcpd_truncated_options_total 4" "$metrics"
e2e_finish
