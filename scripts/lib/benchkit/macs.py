"""Checks on the wire which client MACs perfdhcp generates, before anything is measured.

perfdhcp sends DISCOVERs (-i, no server needed: unanswered packets are fine here) for a bit
more than one full cycle of its clients while tcpdump captures them in the server namespace;
the capture is read here (pcap, Ethernet) and the chaddr / client-id sequence is compared with
reservations.mac_for, which is what every server's reservations are built from.
"""
import math
import subprocess
import time
from pathlib import Path

from .pcap import CaptureError, dhcp_frames
from .reservations import mac_for
from .topology import Topology


class MacCheckFailed(RuntimeError):
    pass


def discovers_in_pcap(path: Path) -> list:
    """(chaddr, client-id) of every DHCPDISCOVER in a classic pcap file with Ethernet framing."""
    try:
        return [(frame.chaddr, frame.client_id) for frame in dhcp_frames(path) if frame.message_type == 1]
    except CaptureError as error:
        raise MacCheckFailed(str(error)) from error


def verify(topology: Topology, workdir: Path, clients: int, base: str, rate: int = 4000) -> str:
    """Captures one cycle and a bit; returns a one-line summary or raises MacCheckFailed."""
    workdir.mkdir(parents=True, exist_ok=True)
    capture = workdir / "discovers.pcap"
    wanted = clients + clients // 5
    seconds = math.ceil(wanted / rate) + 1   # perfdhcp -p takes whole seconds only
    tcpdump = subprocess.Popen(
        topology.in_server(["tcpdump", "-i", topology.server_if, "-n", "-U", "-s", "400", "-c", str(wanted),
                            "-w", str(capture), "udp and dst port 67"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # tcpdump says "listening on ..." once its socket is open.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "listening on" not in tcpdump.stderr.readline():
            pass
        subprocess.run(topology.in_client(["perfdhcp", "-4", "-i", "-l", topology.relay_ip, "-R", str(clients),
                                           "-b", f"mac={base}", "-r", str(rate), "-p", f"{seconds:g}",
                                           "-d", "1", topology.server_ip]),
                       capture_output=True, timeout=seconds + 20)
        tcpdump.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if tcpdump.poll() is None:
            tcpdump.terminate()
            tcpdump.wait(timeout=5)
    seen = discovers_in_pcap(capture)
    if len(seen) < clients + 1:
        raise MacCheckFailed(f"captured only {len(seen)} DISCOVERs, need more than {clients} to see the cycle")
    for index, (chaddr, client_id) in enumerate(seen):
        expected = mac_for(base, index % clients)
        if chaddr != expected:
            raise MacCheckFailed(f"DISCOVER #{index} came from {chaddr}, expected {expected}")
        if client_id != "01:" + expected:
            raise MacCheckFailed(f"DISCOVER #{index} carried client-id {client_id}, expected 01:{expected}")
    return (f"{len(seen)} DISCOVERs captured: client k is {mac_for(base, 0)} + k "
            f"({mac_for(base, 0)} .. {mac_for(base, clients - 1)}), then the cycle restarts at "
            f"{seen[clients][0]}; every DISCOVER carries client-id 01:<mac>")
