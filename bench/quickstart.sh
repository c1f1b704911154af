#!/usr/bin/env bash
# The README's quick start on a fresh Debian 12 server, timed: runs the test
# that takes its steps verbatim (QuickStartTests) N times (default 3) and
# prints each run's time from a bare server to the site on HTTPS, then the
# minimum, median and maximum. Each run resets the server, so every run
# installs nginx, PostgreSQL and certbot from Debian's mirrors: the times
# include the mirrors' speed. Needs root; uses the tests' own hosts.
#
#   bench/quickstart.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "quickstart: N must be a positive number, got: $runs" >&2; exit 64; }
export PATH="/opt/swift/usr/bin:$PATH"
export SWIFTFAB_SANDBOX=1
export SWIFTFAB_TEST_FRESH_HOSTS_DIR=${SWIFTFAB_TEST_FRESH_HOSTS_DIR:-/tmp/swiftfab-test-fresh-hosts}
export SWIFTFAB_TEST_FRESH_HOSTS_ADDRESS=${SWIFTFAB_TEST_FRESH_HOSTS_ADDRESS:-127.0.3.1}
export SWIFTFAB_TEST_FRESH_HOSTS_PORT=${SWIFTFAB_TEST_FRESH_HOSTS_PORT:-2622}
scripts/setup-sandbox >/dev/null
swift build --build-tests >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
times=()
for ((i = 1; i <= runs; i++)); do
    if ! swift test --skip-build --filter 'QuickStartTests' >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "quickstart: run $i failed (its last lines are above)" >&2
        exit 1
    fi
    t=$(sed -n 's/.*from a bare host to HTTPS: \([0-9.]*\) *s.*/\1/p' "$log" | tail -n 1)
    [[ -n $t ]] || { echo "quickstart: run $i printed no time" >&2; exit 1; }
    echo "run $i: ${t} s from a bare server to HTTPS"
    times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    printf "quick start, %d runs: min %.1f s, median %.1f s, max %.1f s\n", NR, v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR] }'
