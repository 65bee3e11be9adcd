"""The server's own turnaround, timed on the wire: tcpdump in the server namespace captures a run
and each reply is paired with the request it answers.

perfdhcp's latency (measure.py) is taken inside perfdhcp, so it also holds perfdhcp's own delays:
at half our clean rate it is nearly saturated on its one CPU and reads a reply only between two
bursts of sending. The kernel's packet tap timestamps a request as it enters the server's
namespace and a reply as it leaves it, whoever is busy; turnaround = DISCOVER in -> OFFER out plus
REQUEST in -> ACK out of one exchange, the same sum perfdhcp's figure is. tcpdump runs on the load
generator's CPU, never the server's, and only in a run of its own (the tap's copies are charged to
whoever sends, so it must not run while CPU or perfdhcp's latency are measured).
"""
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .pcap import CaptureError, dhcp_frames
from .perfdhcp import percentile
from .topology import Topology

DISCOVER, OFFER, REQUEST, ACK, NAK = 1, 2, 3, 5, 6
SNAPSHOT_BYTES = 400          # the BOOTP header and the first options, where option 53 is
BUFFER_KIB = 65536            # the tap's ring: a 10 s run must not overflow it


@dataclass
class WireLatency:
    exchanges_ms: list = field(default_factory=list)   # DISCOVER->OFFER + REQUEST->ACK per exchange
    replies_ms: list = field(default_factory=list)     # every reply's own turnaround
    unanswered: int = 0                                # requests captured with no reply captured
    kernel_drops: Optional[int] = None                 # frames the tap could not keep
    error: str = ""

    @property
    def p50_ms(self):
        return percentile(self.exchanges_ms, 0.50)

    @property
    def p99_ms(self):
        return percentile(self.exchanges_ms, 0.99)

    @property
    def p999_ms(self):
        return percentile(self.exchanges_ms, 0.999)

    def summary(self) -> str:
        """One line for the log and the report's notes."""
        if self.error:
            return self.error
        return (f"{len(self.exchanges_ms)} exchanges, p50 {self.p50_ms:.3f} ms, p99 {self.p99_ms:.3f} ms, "
                f"p99.9 {self.p999_ms:.3f} ms, max {max(self.exchanges_ms):.3f} ms, {self.unanswered} requests "
                f"unanswered, {self.kernel_drops} frames dropped by the tap")


def turnarounds(frames) -> WireLatency:
    """Pairs each reply with the latest unanswered request of its transaction id (a RELEASE, which
    gets no reply, never enters), then each ACK or NAK with its client's OFFER."""
    pending, offers, result = {}, {}, WireLatency()
    for frame in frames:
        if frame.op == 1:
            if frame.message_type in (DISCOVER, REQUEST):
                pending[frame.xid] = frame.seconds
            continue
        sent = pending.pop(frame.xid, None)
        if sent is None or frame.op != 2:
            continue
        turnaround = frame.seconds - sent
        result.replies_ms.append(turnaround * 1000.0)
        if frame.message_type == OFFER:
            offers[frame.chaddr] = turnaround
        elif frame.message_type in (ACK, NAK):
            offered = offers.pop(frame.chaddr, None)
            if offered is not None:
                result.exchanges_ms.append((offered + turnaround) * 1000.0)
    result.unanswered = len(pending)
    return result


class Capture:
    """tcpdump on the server's interface for the length of one run (a context manager)."""

    def __init__(self, topology: Topology, cpu: int):
        self.topology, self.cpu = topology, cpu
        self.directory = Path(tempfile.mkdtemp(prefix="bench-wire-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        self.path = self.directory / "run.pcap"
        self.process = None
        self.stderr = ""

    def __enter__(self):
        argv = self.topology.in_server(["taskset", "-c", str(self.cpu), "tcpdump", "-i", self.topology.server_if,
                                        "-n", "-s", str(SNAPSHOT_BYTES), "-B", str(BUFFER_KIB),
                                        "--time-stamp-precision=nano", "-w", str(self.path), "udp port 67"])
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if "listening on" in line or not line:
                break
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)   # tcpdump flushes the file and prints its counters
        try:
            _, self.stderr = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
        return False

    def result(self) -> WireLatency:
        try:
            latency = turnarounds(dhcp_frames(self.path))
        except (CaptureError, OSError) as error:
            return WireLatency(error=f"capture unreadable: {error}")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
        match = re.search(r"(\d+) packets? dropped by kernel", self.stderr)
        latency.kernel_drops = int(match.group(1)) if match else None
        if not latency.exchanges_ms:
            latency.error = "no exchange captured" + (f" ({self.stderr.strip()[-200:]})" if self.stderr else "")
        return latency


def available() -> bool:
    return shutil.which("tcpdump") is not None
