"""The two network namespaces the bench runs in (created and deleted by scripts/bench).

Server namespace: one veth end holding the server address. Client namespace: the peer end
holding the relay address that perfdhcp uses as giaddr. Only RFC 5737 addresses are used.
"""
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Topology:
    server_ns: str
    client_ns: str
    server_if: str
    server_ip: str = "198.51.100.1"
    relay_ip: str = "198.51.100.2"

    def in_server(self, argv: list) -> list:
        return ["ip", "netns", "exec", self.server_ns] + argv

    def in_client(self, argv: list) -> list:
        return ["ip", "netns", "exec", self.client_ns] + argv

    def udp_receive_errors(self) -> tuple:
        """(server, client) UDP datagrams dropped on arrival so far (receive buffer full or
        otherwise refused: /proc/net/snmp RcvbufErrors + InErrors, per namespace). The bench logs
        the change over each step, to tell a server that fell behind from a generator that did."""
        return (_udp_receive_errors(self.server_ns), _udp_receive_errors(self.client_ns))


def _udp_receive_errors(namespace: str) -> int:
    text = subprocess.run(["ip", "netns", "exec", namespace, "cat", "/proc/net/snmp"],
                          capture_output=True, text=True, check=True).stdout
    header, values = [line.split()[1:] for line in text.splitlines() if line.startswith("Udp:")][:2]
    counters = dict(zip(header, (int(value) for value in values)))
    return counters.get("InErrors", 0) + counters.get("RcvbufErrors", 0)
