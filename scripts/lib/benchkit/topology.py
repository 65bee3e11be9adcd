"""The two network namespaces the bench runs in (created and deleted by scripts/bench).

Server namespace: one veth end holding the server address. Client namespace: the peer end
holding the relay address that perfdhcp uses as giaddr. Only RFC 5737 addresses are used.
"""
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
