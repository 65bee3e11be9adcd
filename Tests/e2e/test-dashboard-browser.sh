#!/usr/bin/env bash
# Browser test of the dashboard: starts WebPreview (the dashboard with fake data) on 127.0.0.1,
# loads it in headless Chromium, asserts on the rendered DOM and saves screenshots under
# test-output/. Needs Debian's chromium (installed by scripts/lib/common.sh's E2E packages).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
cd "$ROOT"
ensure_packages chromium

OUT="$ROOT/test-output/web"
mkdir -p "$OUT"
swift build --product WebPreview >/dev/null
BIN="$(swift build --show-bin-path)/WebPreview"

"$BIN" 0 >"$OUT/preview.log" 2>&1 &
PREVIEW_PID=$!
PROFILE="$(mktemp -d)"
cleanup() { kill "$PREVIEW_PID" 2>/dev/null || true; wait "$PREVIEW_PID" 2>/dev/null || true; rm -rf "$PROFILE"; }
trap cleanup EXIT

PORT=""
for _ in $(seq 1 100); do
    PORT="$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$OUT/preview.log" | head -1)"
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "FAIL: WebPreview did not start"; cat "$OUT/preview.log"; exit 1; }
URL="http://127.0.0.1:$PORT"

chrome() {
    # --virtual-time-budget lets the page's scripts run (deferred script, first chart refresh) before the dump.
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$PROFILE" --hide-scrollbars --virtual-time-budget=12000 "$@" 2>>"$OUT/chromium.log"
}

fail=0
expect() {  # expect FILE PATTERN DESCRIPTION
    if grep -q -- "$2" "$1"; then echo "ok   $3"; else echo "FAIL $3"; fail=1; fi
}

chrome --dump-dom "$URL/" >"$OUT/dashboard.dom.html"
expect "$OUT/dashboard.dom.html" '<title>dhcp-lab-01</title>' "title is SYSTEM_NAME"
expect "$OUT/dashboard.dom.html" 'id="uptime">3d 04h 1' "header shows the uptime"
expect "$OUT/dashboard.dom.html" 'id="status"' "status element rendered"
expect "$OUT/dashboard.dom.html" 'attempt to compare number with nil' "failed reload error text shown"
expect "$OUT/dashboard.dom.html" '<polyline class="s0"[^>]*data-method="DISCOVER"' "activity chart has a DISCOVER series"
expect "$OUT/dashboard.dom.html" 'data-updated="' "activity chart carries its update time"
expect "$OUT/dashboard.dom.html" '52:54:00:10:00:00' "recent clients table rendered"
expect "$OUT/dashboard.dom.html" 'answered &lt;no address change&gt;' "events are escaped"
expect "$OUT/dashboard.dom.html" '<h2>dynamism</h2>' "sidebar groups methods by module"
expect "$OUT/dashboard.dom.html" 'pool 192.0.2.128/26' "script dashboard element rendered"
if grep -q 'data-stale="true"' "$OUT/dashboard.dom.html"; then echo "FAIL live refresh of /api/activity failed"; fail=1; else echo "ok   live refresh did not fail"; fi

chrome --screenshot="$OUT/dashboard.png" --window-size=1440,1100 "$URL/" >/dev/null
chrome --screenshot="$OUT/reinitialise.png" --window-size=1440,800 "$URL/ca/uguu/puukusoft/staticDHCPd/reinitialise" >/dev/null
chrome --dump-dom "$URL/reservations?q=host" >"$OUT/reservations.dom.html"
expect "$OUT/reservations.dom.html" 'id="reservations"' "reservations table rendered"
expect "$OUT/reservations.dom.html" 'name="csrf"' "reservation forms carry the CSRF token"
expect "$OUT/reservations.dom.html" 'id="subnet-table"' "subnets table rendered"
expect "$OUT/reservations.dom.html" '<td class="mono">198.51.100.0/24</td>' "subnets table lists the subnets"
expect "$OUT/reservations.dom.html" 'value="subnet-add"' "subnet editor rendered"
chrome --dump-dom "$URL/reservations?edit-subnet=192.0.2.0%2F24&serial=0" >"$OUT/subnet-edit.dom.html"
expect "$OUT/subnet-edit.dom.html" 'Edit subnet 192.0.2.0/24 serial 0' "subnet edit form filled from the table"
chrome --screenshot="$OUT/reservations.png" --window-size=1440,1000 "$URL/reservations" >/dev/null
chrome --dump-dom "$URL/leases" >"$OUT/leases.dom.html"
expect "$OUT/leases.dom.html" 'id="leases"' "leases table rendered"
expect "$OUT/leases.dom.html" '<meter min="0" max="62"' "pool utilisation bars rendered"
expect "$OUT/leases.dom.html" '<td>quarantined</td>' "quarantined addresses listed"
expect "$OUT/leases.dom.html" '&lt;b&gt;not bold&lt;/b&gt;' "client hostnames are escaped"
expect "$OUT/leases.dom.html" '<a href="/leases" class="current">leases</a>' "sidebar links the leases page"
chrome --dump-dom "$URL/leases?q=scope" >"$OUT/leases-search.dom.html"
if grep -q '52:54:00:20:' "$OUT/leases-search.dom.html"; then echo "FAIL leases search left other leases"; fail=1; else echo "ok   leases search narrows the table"; fi
expect "$OUT/leases-search.dom.html" '52:54:00:30:00:07' "leases search finds a hostname"
chrome --screenshot="$OUT/leases.png" --window-size=1440,1000 "$URL/leases" >/dev/null
for shot in dashboard.png reinitialise.png reservations.png leases.png; do
    if [ -s "$OUT/$shot" ]; then echo "ok   screenshot $OUT/$shot"; else echo "FAIL screenshot $shot"; fail=1; fi
done

[ "$fail" -eq 0 ] && echo "PASS dashboard browser test" || echo "FAIL dashboard browser test"
exit "$fail"
