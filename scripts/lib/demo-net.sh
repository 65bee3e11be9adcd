# The demo topology of scripts/run and scripts/demo: two namespaces joined by a veth pair, the
# server's end on a bridge holding 192.0.2.1/24 (RFC 5737). Source it; call demo_net_up / _down.
DEMO_SRV_NS=sdhcpd-demo-srv
DEMO_CLI_NS=sdhcpd-demo-cli
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
