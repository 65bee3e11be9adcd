#!/usr/bin/env bash
# Runs every Tests/e2e/test-*.sh (each standalone; $STATICDHCPD_BIN names the daemon, default
# .build/debug/staticdhcpd), prints each result, and ends with exactly "N passed, N failed".
# A test that exits 77 was skipped (for instance when not root) and is reported but not counted.
# Exits non-zero when any test failed. Set E2E_VERBOSE=1 to see every test's full output.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export STATICDHCPD_BIN="${STATICDHCPD_BIN:-$root/.build/debug/staticdhcpd}"
case "$STATICDHCPD_BIN" in /*) ;; *) STATICDHCPD_BIN="$root/$STATICDHCPD_BIN" ;; esac

passed=0
failed=0
for test in "$here"/test-*.sh; do
    [ -e "$test" ] || continue
    name="$(basename "$test" .sh)"
    log="$(mktemp)"
    start=$SECONDS
    bash "$test" >"$log" 2>&1
    status=$?
    elapsed=$((SECONDS - start))
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $name (${elapsed}s)"
        [ -n "${E2E_VERBOSE:-}" ] && sed 's/^/     /' "$log"
        grep -E "^ +(perfdhcp|measured):" "$log" || true
    elif [ "$status" -eq 77 ]; then
        echo "SKIP $name: $(grep -m1 'SKIP' "$log" | sed 's/^ *SKIP: *//')"
    else
        failed=$((failed + 1))
        echo "FAIL $name (exit $status, ${elapsed}s)"
        sed 's/^/     /' "$log"
    fi
    rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
