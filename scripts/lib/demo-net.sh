# The demo topology of scripts/run and scripts/demo: two namespaces joined by a veth pair, the
# server's end on a bridge holding 192.0.2.1/24 (RFC 5737). Source it; call demo_net_up / _down,
# and demo_forward_dashboard to reach the dashboard from this host. The namespace names may be
# set before sourcing (the end-to-end test uses its own).
DEMO_SRV_NS=${DEMO_SRV_NS:-sdhcpd-demo-srv}
DEMO_CLI_NS=${DEMO_CLI_NS:-sdhcpd-demo-cli}
DEMO_FORWARDER=
DEMO_CLIENT_MAC=02:00:00:00:00:01

demo_net_up() {
    demo_net_down 2>/dev/null || true
    ip netns add "$DEMO_SRV_NS"
    ip netns add "$DEMO_CLI_NS"
    ip link add vs0 netns "$DEMO_SRV_NS" type veth peer vc0 netns "$DEMO_CLI_NS"
    ip -n "$DEMO_SRV_NS" link add br0 type bridge
    ip -n "$DEMO_SRV_NS" link set vs0 master br0
    ip -n "$DEMO_SRV_NS" addr add 192.0.2.1/24 dev br0
    ip -n "$DEMO_CLI_NS" link set vc0 address "$DEMO_CLIENT_MAC"
    for link in lo vs0 br0; do ip -n "$DEMO_SRV_NS" link set "$link" up; done
    for link in lo vc0; do ip -n "$DEMO_CLI_NS" link set "$link" up; done
    ip netns exec "$DEMO_SRV_NS" ethtool -K vs0 tx off >/dev/null 2>&1 || true
    ip netns exec "$DEMO_CLI_NS" ethtool -K vc0 tx off >/dev/null 2>&1 || true
}

demo_net_down() {
    ip netns del "$DEMO_SRV_NS" 2>/dev/null || true
    ip netns del "$DEMO_CLI_NS" 2>/dev/null || true
}

# demo_forward_dashboard PORT: forwards this host's 127.0.0.1:PORT to the server namespace's own
# 127.0.0.1:PORT (socat, one connection per client), so a browser here opens the dashboard and the
# dashboard sees a loopback client. Sets DEMO_FORWARDER; returns 1 when the port is taken here.
demo_forward_dashboard() {
    local port="$1"
    socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
        "SYSTEM:ip netns exec $DEMO_SRV_NS socat STDIO TCP\:127.0.0.1\:$port" 2>/dev/null &
    DEMO_FORWARDER=$!
    local tries=0
    while [ $tries -lt 20 ]; do
        kill -0 "$DEMO_FORWARDER" 2>/dev/null || { DEMO_FORWARDER=; return 1; }
        ss -ltn "sport = :$port" 2>/dev/null | grep -q "127.0.0.1:$port" && return 0
        sleep 0.1
        tries=$((tries + 1))
    done
    return 0
}

demo_forward_stop() {
    [ -n "$DEMO_FORWARDER" ] && kill "$DEMO_FORWARDER" 2>/dev/null
    DEMO_FORWARDER=
}
