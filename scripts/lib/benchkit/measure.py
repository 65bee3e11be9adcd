"""Measures one running server: clean-rate search, flood, latency, CPU per exchange, peak RSS."""
import contextlib
import time
from dataclasses import dataclass, field
from typing import Optional

from . import webprobe, wire
from .perfdhcp import Perfdhcp, PerfdhcpError, percentile

CLEAN_DROP_RATIO = 0.001       # "clean" means under 0.1 % of exchanges lost
GENERATOR_SHORTFALL = 0.90     # below 90 % of the offered rate, perfdhcp itself could not keep up
# Offered rate of the flood run: the larger of a fixed rate above both peers' ceilings on this
# kind of machine, and twice the server's own clean rate. Far higher (e.g. 100,000/s) only
# measures perfdhcp starving its own receive thread on its one CPU.
FLOOD_RATE = 20000
SETTLE_SECONDS = 1.0           # pause between runs so late answers never leak into the next run


@dataclass
class Plan:
    """How long and how finely to measure; --quick shrinks every figure."""
    first_rate: int = 1000
    max_rate: int = 64000
    bisect_steps: int = 3
    step_seconds: float = 5
    confirm_seconds: float = 10
    confirm_attempts: int = 3
    flood_seconds: float = 10
    latency_seconds: float = 10
    # Cost as load grows: CPU per exchange at these paced rates (each its own run).
    paced_rates: tuple = (1000, 4000, 10000)
    # Overload recovery: twice the clean rate for overload_seconds, then the clean rate; the
    # first recovery_seconds are not judged, the next recovered_seconds are (docs/BENCHMARK.md).
    overload_seconds: float = 10
    recovery_seconds: float = 2
    recovered_seconds: float = 6

    @classmethod
    def quick(cls) -> "Plan":
        return cls(first_rate=1000, max_rate=16000, bisect_steps=1, step_seconds=2, confirm_seconds=3,
                   confirm_attempts=2, flood_seconds=3, latency_seconds=3, paced_rates=(1000,),
                   overload_seconds=3, recovery_seconds=1, recovered_seconds=3)


@dataclass
class Step:
    offered: int
    achieved: float
    drop_ratio: float
    verdict: str


@dataclass
class ServerResult:
    name: str
    family: str
    available: bool = True
    reason: str = ""
    clean_rate: Optional[int] = None
    clean_confirmed: bool = False
    flood_offered: Optional[int] = None
    flood_rate: Optional[float] = None
    flood_drop_ratio: Optional[float] = None
    p50_ms: Optional[float] = None
    p99_ms: Optional[float] = None
    # The same latency run with the server under SCHED_FIFO (servers.REALTIME_PRIORITY).
    p99_fifo_ms: Optional[float] = None
    latency_rate: Optional[int] = None
    latency_samples: int = 0
    cpu_us: Optional[float] = None
    rss_peak_kib: Optional[int] = None
    web: dict = field(default_factory=dict)
    # The server's turnaround timed on the wire (wire.py), in a run of its own at the latency rate.
    wire_latency: Optional[wire.WireLatency] = None
    steps: list = field(default_factory=list)
    # Offered rate -> Paced (CPU per exchange and loss at that rate).
    paced: dict = field(default_factory=dict)
    # Loss at the clean rate once recovery_seconds have passed after twice the clean rate.
    recovered_drop_ratio: Optional[float] = None
    overload_drop_ratio: Optional[float] = None


@dataclass
class Paced:
    cpu_us: Optional[float]
    drop_ratio: float
    # The part of cpu_us spent in user space (the server's own code and libraries, utime); the
    # rest is the kernel's (stime). Sampled by the kernel at each clock tick, so it is a share,
    # not an exact split.
    user_us: Optional[float] = None


class Measurer:
    def __init__(self, perfdhcp: Perfdhcp, plan: Plan, log, start_server):
        """start_server() returns a RunningServer that is already listening."""
        self.start_server = start_server
        # utime of the server during the last _run, in seconds.
        self.last_user_seconds = 0.0
        self.perfdhcp = perfdhcp
        self.plan = plan
        self.log = log

    def _run(self, record, rate: int, seconds: float, timers: bool = False, web_url: str = "",
             capture: bool = False, realtime: bool = False):
        """One perfdhcp run against a freshly started server (so no run inherits leases, queues or
        caches from the previous one); returns (result, server CPU seconds spent during the run).
        With `capture`, tcpdump times the server's replies on the wire (record.wire_latency);
        with `realtime`, the server runs under SCHED_FIFO."""
        server = self.start_server(realtime=realtime)
        try:
            probe = self._start_web_probe(web_url, seconds) if web_url else None
            tap = wire.Capture(self.perfdhcp.topology, self.perfdhcp.cpu) if capture else contextlib.nullcontext()
            user_before, system_before = server.cpu_split()
            with tap:
                result = self.perfdhcp.run(rate, seconds, timers)
            if capture:
                record.wire_latency = tap.result()
            if probe is not None:
                record.web = self._finish_web_probe(probe)
            time.sleep(SETTLE_SECONDS)
            if not server.alive():
                raise PerfdhcpError(f"{server.spec.name} exited during the run: {server.tail()}")
            user_after, system_after = server.cpu_split()
            cpu = (user_after + system_after) - (user_before + system_before)
            self.last_user_seconds = user_after - user_before
            peak = server.memory_kib("VmHWM")
            record.rss_peak_kib = max(record.rss_peak_kib or 0, peak)
        finally:
            server.stop()
        return result, cpu

    def _step(self, rate: int, seconds: float, record) -> tuple:
        errors_before = self.perfdhcp.topology.udp_receive_errors()
        result, cpu = self._run(record, rate, seconds)
        errors_after = self.perfdhcp.topology.udp_receive_errors()
        server_lost, client_lost = (after - before for after, before in zip(errors_after, errors_before))
        if result.drop_ratio >= CLEAN_DROP_RATIO:
            verdict = "drops"
        elif result.initiated < GENERATOR_SHORTFALL * rate * seconds:
            verdict = "short"  # no loss, but the offered rate was not reached
        else:
            verdict = "clean"
        record.steps.append(Step(rate, result.completed / seconds, result.drop_ratio, verdict))
        self.log(f"    {rate:>6}/s offered: {result.completed / seconds:8.0f}/s done, drops {result.drop_ratio * 100:6.3f} % -> {verdict}"
                 f" (datagrams refused on arrival: server {server_lost}, perfdhcp {client_lost})")
        return verdict == "clean", result, cpu

    def paced(self, record: ServerResult) -> None:
        """CPU per exchange at each of plan.paced_rates, each on a fresh server."""
        for rate in self.plan.paced_rates:
            result, cpu = self._run(record, rate, self.plan.step_seconds)
            cpu_us = cpu / result.completed * 1e6 if result.completed else None
            user_us = self.last_user_seconds / result.completed * 1e6 if result.completed else None
            record.paced[rate] = Paced(cpu_us, result.drop_ratio, user_us)
            self.log(f"    paced {rate}/s: {cpu_us or 0:.1f} µs CPU per exchange ({user_us or 0:.1f} in user space), "
                     f"drops {result.drop_ratio * 100:.3f} %")

    def overload_recovery(self, record: ServerResult) -> None:
        """Twice the clean rate, then the clean rate, back to back on one server (no pause between
        the perfdhcp runs): the loss in the judged part tells whether the server recovered."""
        plan, rate = self.plan, record.clean_rate
        if not record.clean_confirmed or not rate:
            return
        server = self.start_server()
        try:
            overload = self.perfdhcp.run(2 * rate, plan.overload_seconds, exit_wait_us=0)
            self.perfdhcp.run(rate, plan.recovery_seconds, exit_wait_us=0)
            judged = self.perfdhcp.run(rate, plan.recovered_seconds)
            if not server.alive():
                raise PerfdhcpError(f"{server.spec.name} exited during the overload: {server.tail()}")
        finally:
            server.stop()
        record.overload_drop_ratio, record.recovered_drop_ratio = overload.drop_ratio, judged.drop_ratio
        self.log(f"    {2 * rate}/s for {plan.overload_seconds:g} s: drops {overload.drop_ratio * 100:.2f} %; then {rate}/s, "
                 f"from {plan.recovery_seconds:g} s on: drops {judged.drop_ratio * 100:.3f} %")

    def answers(self, record) -> bool:
        """A short, slow run: does the server complete any exchange at all?"""
        result, _ = self._run(record, 50, 1)
        return result.completed > 0

    def search_clean_rate(self, record: ServerResult) -> int:
        """Stepped search, bisection and confirmation (docs/BENCHMARK.md); sets record.clean_rate
        (None when no rate was confirmed) and returns the highest clean rate of the search."""
        plan = self.plan
        self.log("  searching the clean rate")
        low, high, rate = 0, None, plan.first_rate
        while rate <= plan.max_rate:
            clean, _, _ = self._step(rate, plan.step_seconds, record)
            if not clean:
                high = rate
                break
            low, rate = rate, rate * 2
        if high is None:
            high = low  # clean up to the largest step: stop there
        for _ in range(plan.bisect_steps):
            if high - low <= max(100, low // 20):
                break
            middle = (low + high) // 2 // 100 * 100 or (low + high) // 2
            clean, _, _ = self._step(middle, plan.step_seconds, record)
            low, high = (middle, high) if clean else (low, middle)
        self.log("  confirming")
        candidate = low
        for _ in range(plan.confirm_attempts):
            if candidate < 100:
                break
            clean, result, cpu = self._step(candidate, plan.confirm_seconds, record)
            if result.completed:
                record.cpu_us = cpu / result.completed * 1e6
            if clean:
                record.clean_rate, record.clean_confirmed = candidate, True
                break
            candidate = candidate * 9 // 10 // 100 * 100
        if not record.clean_confirmed:
            record.clean_rate = None
            self.log("  no clean rate confirmed")
        return low

    def measure(self, record: ServerResult, web_url: str = "") -> None:
        plan = self.plan
        low = self.search_clean_rate(record)

        self.log(f"  paced rates {', '.join(map(str, plan.paced_rates))}/s")
        self.paced(record)
        self.log("  overload recovery")
        self.overload_recovery(record)

        self.log("  flood")
        record.flood_offered = max(FLOOD_RATE, 2 * (record.clean_rate or 0))
        flood, flood_cpu = self._run(record, record.flood_offered, plan.flood_seconds)
        record.flood_rate, record.flood_drop_ratio = flood.completed / plan.flood_seconds, flood.drop_ratio
        if record.cpu_us is None and flood.completed:
            record.cpu_us = flood_cpu / flood.completed * 1e6
        self.log(f"    {flood.rate:.0f} exchanges/s, drops {flood.drop_ratio * 100:.2f} %")

        latency_rate = max(100, (record.clean_rate or low or 200) // 2)
        self.log(f"  latency at {latency_rate}/s (half the clean rate)")
        timed, _ = self._run(record, latency_rate, plan.latency_seconds, timers=True)
        latencies = timed.dora_latencies_ms()
        record.latency_rate, record.latency_samples = latency_rate, len(latencies)
        record.p50_ms, record.p99_ms = percentile(latencies, 0.50), percentile(latencies, 0.99)
        # Again with the server under SCHED_FIFO: on this VM the kernel's own threads (kworker,
        # rcu_preempt, kdamond's reclaim every 0.5 s) hold the server's CPU for 1.5-4 ms at a time,
        # and an ordinary process waits them out; the difference is that, not the server.
        self.log(f"  latency at {latency_rate}/s with the server under SCHED_FIFO")
        timed, _ = self._run(record, latency_rate, plan.latency_seconds, timers=True, realtime=True)
        record.p99_fifo_ms = percentile(timed.dora_latencies_ms(), 0.99)
        self.log(f"    p99 {record.p99_ms or 0:.3f} ms, under SCHED_FIFO {record.p99_fifo_ms or 0:.3f} ms")
        if wire.available():
            self.log(f"  turnaround on the wire at {latency_rate}/s (tcpdump in the server namespace)")
            self._run(record, latency_rate, plan.latency_seconds, capture=True)
            self.log(f"    {record.wire_latency.summary()}")
        if web_url:
            # Its own run at the same rate: the probe's requests share perfdhcp's CPU, so it must not
            # run while perfdhcp times exchanges (that would inflate our p99 and not the peers').
            self.log(f"  dashboard probe at {latency_rate}/s")
            self._run(record, latency_rate, plan.latency_seconds, web_url=web_url)

    def _start_web_probe(self, url: str, seconds: float):
        return webprobe.launch(self.perfdhcp.topology, url, seconds)

    def _finish_web_probe(self, probe) -> dict:
        return webprobe.collect(probe, self.plan.latency_seconds + 30)
