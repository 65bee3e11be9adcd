"""Runs perfdhcp inside the client namespace and reads its report.

perfdhcp -4 always acts as a relay agent (giaddr = its -l address, hops = 1), so every
server under test sees relayed traffic from 198.51.100.2 and answers to port 67 there.
"""
import bisect
import math
import re
import subprocess
from dataclasses import dataclass, field

from .topology import Topology

STAGE_HEADER = re.compile(r"^\*\*\*Statistics for: (\S+)\*\*\*")
TIMESTAMP_HEADER = re.compile(r"^\*\*\*Timestamps for packets: (\S+)\*\*\*")
TIMESTAMP_LINE = re.compile(r"^sent / received: ([0-9.]+) / ([0-9.]+)")
RATE_LINE = re.compile(r"^Rate: ([0-9.eE+]+) 4-way exchanges/second")


class PerfdhcpError(RuntimeError):
    """perfdhcp could not run or printed a report we cannot read."""


@dataclass
class StageCounts:
    sent: int = 0
    received: int = 0
    drops: int = 0


@dataclass
class PerfdhcpResult:
    """What one perfdhcp run reported. Exchanges are DISCOVER-OFFER-REQUEST-ACK."""
    offered_rate: int
    duration: float
    rate: float = 0.0
    stages: dict = field(default_factory=dict)
    # (sent, received) seconds, per stage, only when timers were requested (-x t).
    timers: dict = field(default_factory=dict)

    @property
    def initiated(self) -> int:
        return self.stages.get("DISCOVER-OFFER", StageCounts()).sent

    @property
    def completed(self) -> int:
        return self.stages.get("REQUEST-ACK", StageCounts()).received

    @property
    def drops(self) -> int:
        """Lost DORA messages: unanswered DISCOVERs plus unanswered REQUESTs (RELEASE has no reply)."""
        return sum(self.stages[s].drops for s in ("DISCOVER-OFFER", "REQUEST-ACK") if s in self.stages)

    @property
    def drop_ratio(self) -> float:
        """Lost messages per initiated exchange (each lost OFFER or ACK loses one exchange)."""
        if self.initiated == 0:
            return 1.0
        return self.drops / self.initiated

    def dora_latencies_ms(self) -> list:
        """Per-exchange server time, DISCOVER->OFFER plus REQUEST->ACK, in milliseconds.

        perfdhcp lists the two stages separately; a REQUEST is sent as soon as its OFFER
        arrives, so each REQUEST is paired with the latest OFFER received no later than it
        was sent. The client's own turnaround between OFFER and REQUEST is excluded: it is
        load-generator time, not server time."""
        offers = sorted(self.timers.get("DISCOVER-OFFER", []), key=lambda pair: pair[1])
        requests = self.timers.get("REQUEST-ACK", [])
        received_at = [pair[1] for pair in offers]
        latencies = []
        for sent, received in requests:
            index = bisect.bisect_right(received_at, sent) - 1
            if index < 0:
                continue
            offer_sent, offer_received = offers[index]
            latencies.append(((offer_received - offer_sent) + (received - sent)) * 1000.0)
        return latencies


def parse_report(text: str, offered_rate: int, duration: float) -> PerfdhcpResult:
    """Reads perfdhcp's final report (and its -x t timers, if present)."""
    result = PerfdhcpResult(offered_rate=offered_rate, duration=duration)
    stage = None
    timer_stage = None
    for line in text.splitlines():
        line = line.strip()
        if match := RATE_LINE.match(line):
            result.rate = float(match.group(1))
        elif match := STAGE_HEADER.match(line):
            stage, timer_stage = match.group(1), None
            result.stages[stage] = StageCounts()
        elif match := TIMESTAMP_HEADER.match(line):
            timer_stage, stage = match.group(1), None
            result.timers[timer_stage] = []
        elif timer_stage and (match := TIMESTAMP_LINE.match(line)):
            result.timers[timer_stage].append((float(match.group(1)), float(match.group(2))))
        elif stage and ":" in line:
            key, _, value = line.partition(":")
            value = value.strip().split(" ")[0]
            if key in ("sent packets", "received packets", "drops") and value.isdigit():
                attribute = {"sent packets": "sent", "received packets": "received", "drops": "drops"}[key]
                setattr(result.stages[stage], attribute, int(value))
    if "DISCOVER-OFFER" not in result.stages:
        raise PerfdhcpError("perfdhcp printed no DISCOVER-OFFER statistics:\n" + text[-2000:])
    return result


@dataclass
class Perfdhcp:
    """The fixed perfdhcp settings shared by every server under test."""
    topology: Topology
    clients: int
    mac_base: str
    with_releases: bool
    cpu: int = 0

    def argv(self, rate: int, duration: float, timers: bool = False, exit_wait_us: int = 300000) -> list:
        argv = ["perfdhcp", "-4", "-l", self.topology.relay_ip,
                "-R", str(self.clients), "-b", f"mac={self.mac_base}",
                "-r", str(rate), "-p", f"{duration:g}", "-d", "1",
                # Wait 0.3 s after the period so answers still in flight are counted, not dropped
                # (0 where the next run must follow at once: the overload-recovery step).
                "-W", str(exit_wait_us),
                # One thread: perfdhcp is pinned to one CPU, where its default second (receiving)
                # thread only competes with the sending one; its socket then overflows from about
                # 12,000 exchanges/s even against a responder that does nothing (the floor row).
                "-g", "single"]
        if self.with_releases:
            argv += ["-F", str(rate)]
        if timers:
            argv += ["-x", "t"]
        return self.topology.in_client(["taskset", "-c", str(self.cpu)] + argv + [self.topology.server_ip])

    def run(self, rate: int, duration: float, timers: bool = False, exit_wait_us: int = 300000) -> PerfdhcpResult:
        argv = self.argv(rate, duration, timers, exit_wait_us)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30)
        except subprocess.TimeoutExpired as error:
            raise PerfdhcpError(f"perfdhcp did not finish within {duration + 30:g} s") from error
        # Exit status 3 means "some exchanges did not complete": a normal outcome here.
        if done.returncode not in (0, 3):
            raise PerfdhcpError(f"perfdhcp exited {done.returncode}: {done.stderr.strip()[-800:]}")
        return parse_report(done.stdout, rate, duration)


def percentile(values: list, fraction: float):
    """Nearest-rank percentile; None for an empty list."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]
