# Shared by the scripts in scripts/: package installation and the Swift toolchain's path.
# Source it; it defines functions and changes nothing by itself.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="/opt/swift/usr/bin:$PATH"

# Every release build of the scripts (run, install, bench*) uses these flags, so that they share one
# build. The Swift runtime and Foundation are linked into the executable: measured with the default
# conf.lua, that is about 3 MB less resident memory than loading them as shared libraries (fewer pages
# touched while relocating at start), and the executable needs nothing from /opt/swift to run.
RELEASE_BUILD=(-c release --static-swift-stdlib)

# Packages every build needs.
BUILD_PACKAGES=(liblua5.4-dev lua5.4 pkg-config libsqlite3-dev sqlite3)
# Packages the end-to-end tests need: real clients, perfdhcp, namespaces, the browser, openssl
# (the certificate of the STARTTLS test in Tests/DaemonLoggingTests), and the PostgreSQL and
# memcached servers that the database, shared-store and cluster tests start themselves on loopback
# or in a test namespace (Tests/DatabasesTests, Tests/e2e/test-cluster.sh).
E2E_PACKAGES=(busybox python3 isc-dhcp-client dhcpcd-base kea-admin iproute2 ethtool procps tcpdump chromium curl openssl postgresql memcached socat)
# systemd for systemd-analyze in Tests/e2e/test-install.sh, which skips that part, saying why,
# when it is missing.
OPTIONAL_TEST_PACKAGES=(systemd)
# Packages scripts/bench needs: the peers, perfdhcp, the capture of perfdhcp's MACs, taskset.
# time: GNU time, the importer's peak RSS in --million.
BENCH_PACKAGES=(kea-dhcp4-server kea-admin coredhcp-server tcpdump sqlite3 iproute2 ethtool util-linux python3 time)

# Installs the Debian packages given as arguments, running 'apt-get update' once first,
# and only when something is missing (so repeated runs cost nothing).
ensure_packages() {
    local missing=()
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing Debian packages (${missing[*]}); run as root or install them" >&2
        return 1
    fi
    echo "==> installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Like ensure_packages, but a failure (no registry reachable, say) is only a warning: the tests
# that need these packages skip with a message instead.
try_packages() {
    ensure_packages "$@" || echo "warning: could not install $*; the tests that need them will be skipped" >&2
}
