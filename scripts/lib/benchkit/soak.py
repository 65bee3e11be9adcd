"""Memory soak (issue #8): RSS of our daemon under steady load, sampled over many minutes.

Only staticdhcpd runs, in its fullest configuration (SQLite, the Lua hook, the dashboard on),
on a database of N reservations made by reservations.py; perfdhcp's -R N and MAC template
cover exactly those MACs, so every exchange hits a reservation. The sequence:

  1. (unless --soak-rate) a short clean-rate search on throwaway servers; the soak rate is half
     the rate found, so the daemon is loaded steadily, never queueing;
  2. a fresh server, left idle IDLE_BEFORE_SECONDS: VmRSS is the idle figure before load;
  3. one perfdhcp run at the soak rate for the whole period, while a thread reads VmRSS from
     /proc/PID/status every SAMPLE_SECONDS and a probe GETs the dashboard every WEB_POLL_SECONDS;
  4. VmRSS as the load ends, then after IDLE_AFTER_SECONDS idle; VmHWM (the kernel's own peak,
     which no sampling interval can miss) as the peak.

Each reading also splits VmRSS into RssAnon (heap, stacks: where a leak shows) and RssFile
(pages of the executable and libraries mapped from disk: bounded by their size).

The slope is an ordinary least-squares fit of RSS (MB) against time (minutes) over the load
samples, and again over the second half only: growth while caches, arenas and the SQLite page
cache warm up is expected; what must be flat is the second half.
"""
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from . import reservations as rsv
from . import webprobe
from .measure import CLEAN_DROP_RATIO, Measurer, Plan, ServerResult
from .perfdhcp import Perfdhcp, PerfdhcpError
from .servers import RunningServer, ServerSpec, ServerUnavailable
from .topology import Topology

SAMPLE_SECONDS = 5.0
IDLE_BEFORE_SECONDS = 10.0
IDLE_AFTER_SECONDS = 15.0
WEB_POLL_SECONDS = 5.0          # a dashboard left open in a browser, not a load of its own
RSS_LIMIT_MB = 40.0             # issue #8: under 40 MB with 100,000 reservations ...
SLOPE_LIMIT_MB_PER_MINUTE = 0.2  # ... and flat: second-half growth under this
TARGET_MINUTES = 10.0
# perfdhcp keeps about 4 KB per exchange until it exits (about 40 MB/s at 10,000/s): one 10-minute
# run at the rates it reaches single-threaded exhausts a 24 GB machine, whose reclaim then stalls
# everything. So the load is a series of perfdhcp runs of at most this long, back to back.
SEGMENT_SECONDS = 60
FALLBACK_RATE = 100             # when the search confirms no clean rate at all
# Short steps: the search only has to find a rate the daemon certainly sustains at one half.
SEARCH_PLAN = Plan(first_rate=1000, max_rate=32000, bisect_steps=2, step_seconds=3,
                   confirm_seconds=5, confirm_attempts=2)
SERVER_NAME = "staticdhcpd SQLite + Lua hook + dashboard"
MEMORY_KEYS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")


@dataclass(frozen=True)
class SoakSettings:
    minutes: float = TARGET_MINUTES
    reservations: int = 100_000
    rate: Optional[int] = None      # None: half the clean rate found by a short search

    def __post_init__(self):
        if not self.minutes > 0:
            raise ValueError(f"soak minutes must be above 0, got {self.minutes}")
        if not 1 <= self.reservations <= rsv.MAX_CLIENTS:
            raise ValueError(f"soak reservations must be in 1..{rsv.MAX_CLIENTS:,}, got {self.reservations}")
        if self.rate is not None and self.rate < 1:
            raise ValueError(f"soak rate must be at least 1 exchange/s, got {self.rate}")

    @property
    def seconds(self) -> int:
        """The load period, rounded up to whole seconds: perfdhcp's -p takes nothing else."""
        return math.ceil(self.minutes * 60.0)


@dataclass(frozen=True)
class Sample:
    seconds: float      # since the load started
    rss_kib: int
    anon_kib: int = 0
    file_kib: int = 0

    @classmethod
    def from_status(cls, seconds: float, status: dict) -> "Sample":
        return cls(seconds, status["VmRSS"], status["RssAnon"], status["RssFile"])


@dataclass
class SoakResult:
    settings: SoakSettings
    rate: int = 0
    rate_source: str = ""
    failure: str = ""               # why the soak could not finish, "" when it did
    peak_kib: Optional[int] = None  # VmHWM at the end: the true peak since start
    # MEMORY_KEYS readings at "idle before", "end of load" and "idle after".
    moments: dict = field(default_factory=dict)
    samples: list = field(default_factory=list)
    initiated: int = 0
    completed: int = 0
    drops: int = 0
    drop_ratio: float = 0.0
    cpu_us: Optional[float] = None
    web: dict = field(default_factory=dict)
    search_steps: list = field(default_factory=list)

    def rss_at(self, moment: str) -> Optional[int]:
        return self.moments.get(moment, {}).get("VmRSS")

    @property
    def idle_before_kib(self) -> Optional[int]:
        return self.rss_at("idle before")

    @property
    def end_kib(self) -> Optional[int]:
        return self.rss_at("end of load")

    @property
    def idle_after_kib(self) -> Optional[int]:
        return self.rss_at("idle after")

    @property
    def sampled_peak_kib(self) -> Optional[int]:
        return max((s.rss_kib for s in self.samples), default=None)

    def slopes(self, field_name: str = "rss_kib") -> tuple:
        """(whole load, second half) slopes in MB per minute; None where there are too few samples."""
        return load_slopes(self.samples, self.settings.seconds, field_name)


def least_squares_slope(points: list) -> Optional[float]:
    """Slope of the ordinary least-squares line through (x, y) points; None below two distinct x."""
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def load_slopes(samples: list, load_seconds: float, field_name: str = "rss_kib") -> tuple:
    """Slope in MB/minute of one Sample field (VmRSS by default) over all load samples and over
    those in the second half of the load."""
    def fit(chosen):
        return least_squares_slope([(s.seconds / 60.0, getattr(s, field_name) / 1024.0) for s in chosen])
    return fit(samples), fit([s for s in samples if s.seconds >= load_seconds / 2])


def verdict(result: SoakResult) -> tuple:
    """(flat?, one plain sentence, caveats). Flat: second-half slope under the limit and peak under 40 MB."""
    caveats = []
    if result.settings.minutes < TARGET_MINUTES:
        caveats.append(f"short run ({result.settings.minutes:g} min): the target is judged over "
                       f"{TARGET_MINUTES:g} minutes")
    if result.settings.reservations < 100_000:
        caveats.append(f"{result.settings.reservations:,} reservations: the target is judged with 100,000")
    if result.completed and result.drop_ratio >= CLEAN_DROP_RATIO:
        caveats.append(f"the load was not clean ({result.drop_ratio * 100:.2f} % of exchanges lost): "
                       "the daemon was queueing; try a lower --soak-rate")
    if result.failure:
        return False, f"failed: {result.failure}", caveats
    if not result.completed:
        return False, "not measured: no exchange completed, so the daemon was never under load", caveats
    _, second_half = result.slopes()
    peak_mb = (result.peak_kib or 0) / 1024.0
    problems = []
    if peak_mb >= RSS_LIMIT_MB:
        problems.append(f"peak RSS {peak_mb:.1f} MB is not under {RSS_LIMIT_MB:g} MB")
    if second_half is None:
        problems.append("too few samples in the second half of the load for a slope")
    elif second_half >= SLOPE_LIMIT_MB_PER_MINUTE:
        problems.append(f"RSS still grows {second_half:.3f} MB/min in the second half "
                        f"(limit {SLOPE_LIMIT_MB_PER_MINUTE:g})")
    if problems:
        return False, "not flat: " + "; ".join(problems), caveats
    return True, (f"flat (peak {peak_mb:.1f} MB < {RSS_LIMIT_MB:g} MB, second-half slope "
                  f"{second_half:+.3f} MB/min < {SLOPE_LIMIT_MB_PER_MINUTE:g})"), caveats


class RssSampler(threading.Thread):
    """Reads VmRSS every `every` seconds on a fixed grid (no drift), until stop() or the process is gone."""

    def __init__(self, read_status: Callable[[], dict], every: float, log: Callable[[str], None]):
        super().__init__(daemon=True)
        self.read_status = read_status
        self.every = every
        self.log = log
        self.samples = []
        self.error = ""
        self._stop_event = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        per_minute = max(1, round(60 / self.every))
        count = 0
        while not self._stop_event.wait(max(0.0, started + count * self.every - time.monotonic())):
            try:
                sample = Sample.from_status(time.monotonic() - started, self.read_status())
            except OSError as error:
                self.error = f"the daemon's /proc entry went away ({error})"
                return
            self.samples.append(sample)
            if count and count % per_minute == 0:
                self.log(f"    {count * self.every / 60:4.0f} min: RSS {sample.rss_kib / 1024:.1f} MB "
                         f"(anonymous {sample.anon_kib / 1024:.1f} MB)")
            count += 1

    def stop(self) -> list:
        self._stop_event.set()
        self.join(timeout=10)
        return self.samples


def soak_spec(binary: str) -> ServerSpec:
    return ServerSpec(SERVER_NAME, "ours", "ours", binary=binary, hook=True, web=True)


def choose_rate(settings: SoakSettings, perfdhcp: Perfdhcp, start_server, result: SoakResult, log) -> None:
    """Sets result.rate: --soak-rate as given, else half the clean rate of a short search."""
    if settings.rate is not None:
        result.rate, result.rate_source = settings.rate, "set by --soak-rate"
        return
    log(f"== finding a clean rate ({SEARCH_PLAN.step_seconds:g} s steps on fresh servers)")
    record = ServerResult(SERVER_NAME, "ours")
    measurer = Measurer(perfdhcp, SEARCH_PLAN, log, start_server)
    if not measurer.answers(record):
        raise ServerUnavailable("completed no exchange at 50/s")
    highest_clean = measurer.search_clean_rate(record)
    result.search_steps = [f"{step.offered}:{step.verdict}" for step in record.steps]
    found = record.clean_rate if record.clean_confirmed else highest_clean
    if found and found >= 200:
        result.rate = found // 2 // 100 * 100
        how = "confirmed" if record.clean_confirmed else "unconfirmed"
        result.rate_source = f"half the {how} clean rate of {found:,}/s found by a short search"
    else:
        result.rate = FALLBACK_RATE
        result.rate_source = f"no clean rate of 200/s or more found; soaking at {FALLBACK_RATE}/s"


def run_soak(settings: SoakSettings, binary: str, topology: Topology, workdir: Path, perfdhcp: Perfdhcp,
             web_url: str, server_cpu: int, log) -> SoakResult:
    result = SoakResult(settings)
    spec = soak_spec(binary)
    log(f"== {SERVER_NAME}: building the database of {settings.reservations:,} reservations")
    argv = spec.prepare(workdir, topology, rsv.reservations(perfdhcp.mac_base, settings.reservations))

    def start_server(realtime: bool = False) -> RunningServer:
        server = RunningServer(spec, argv, topology, workdir, server_cpu, realtime)
        try:
            server.wait_listening()
        except ServerUnavailable:
            server.stop()
            raise
        return server

    try:
        choose_rate(settings, perfdhcp, start_server, result, log)
    except (ServerUnavailable, PerfdhcpError) as error:
        result.failure = f"the rate search stopped: {error} (see {workdir}/server.out)"
        return result
    log(f"== soak: {result.rate:,}/s for {settings.minutes:g} min ({result.rate_source})")
    try:
        server = start_server()
    except ServerUnavailable as error:
        result.failure = f"the daemon did not start: {error}"
        return result
    try:
        _soak_one_server(server, settings, perfdhcp, web_url, result, log)
    finally:
        server.stop()
    return result


def _soak_one_server(server: RunningServer, settings: SoakSettings, perfdhcp: Perfdhcp, web_url: str,
                     result: SoakResult, log) -> None:
    try:
        _idle_load_idle(server, settings, perfdhcp, web_url, result, log)
    except OSError as error:
        result.failure = f"could not read the daemon's /proc entry ({error}): {server.tail()}"
    finally:
        # VmHWM covers the whole life of the process: worth having even when the soak stopped early.
        try:
            result.peak_kib = server.memory_kib("VmHWM") if server.alive() else result.peak_kib
        except OSError:
            pass  # gone between the two reads: reported just below
        if not server.alive() and not result.failure:
            result.failure = f"the daemon exited: {server.tail()}"


def _idle_load_idle(server: RunningServer, settings: SoakSettings, perfdhcp: Perfdhcp, web_url: str,
                    result: SoakResult, log) -> None:
    time.sleep(IDLE_BEFORE_SECONDS)
    _record_moment(server, result, "idle before", log)
    probe = webprobe.launch(perfdhcp.topology, web_url, settings.seconds, WEB_POLL_SECONDS)
    sampler = RssSampler(lambda: server.status_kib(MEMORY_KEYS), SAMPLE_SECONDS, log)
    cpu_before = server.cpu_seconds()
    sampler.start()
    try:
        load = run_in_segments(perfdhcp, result.rate, settings.seconds)
    except PerfdhcpError as error:
        result.failure = f"perfdhcp stopped: {error}"
        return
    finally:
        result.samples = sampler.stop()
        result.web = webprobe.collect(probe, 30)
    result.initiated, result.completed = load.initiated, load.completed
    result.drops, result.drop_ratio = load.drops, load.drop_ratio
    if not server.alive():
        result.failure = f"the daemon exited during the load: {server.tail()}"
        return
    _record_moment(server, result, "end of load", log)
    result.cpu_us = ((server.cpu_seconds() - cpu_before) / load.completed * 1e6) if load.completed else None
    if sampler.error:
        result.failure = sampler.error
        return
    log(f"  {load.completed:,} exchanges, drops {load.drop_ratio * 100:.3f} %")
    time.sleep(IDLE_AFTER_SECONDS)
    if not server.alive():
        result.failure = f"the daemon exited after the load: {server.tail()}"
        return
    _record_moment(server, result, "idle after", log)
    log(f"  peak (VmHWM) {server.memory_kib('VmHWM') / 1024:.1f} MB")


@dataclass
class SegmentedLoad:
    """The sums of consecutive perfdhcp runs."""
    initiated: int = 0
    completed: int = 0
    drops: int = 0
    runs: int = 0

    @property
    def drop_ratio(self) -> float:
        return self.drops / self.initiated if self.initiated else 1.0

    def add(self, run) -> None:
        self.initiated += run.initiated
        self.completed += run.completed
        self.drops += run.drops
        self.runs += 1


def segment_lengths(seconds: int, longest: int = SEGMENT_SECONDS) -> list:
    """Whole-second perfdhcp periods, each at most `longest`, adding up to `seconds`."""
    count = max(1, math.ceil(seconds / longest))
    base, extra = divmod(seconds, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


def run_in_segments(perfdhcp: Perfdhcp, rate: int, seconds: int) -> SegmentedLoad:
    load = SegmentedLoad()
    for length in segment_lengths(seconds):
        load.add(perfdhcp.run(rate, length))
    return load


def _record_moment(server: RunningServer, result: SoakResult, moment: str, log) -> None:
    reading = server.status_kib(MEMORY_KEYS)
    result.moments[moment] = reading
    log(f"  {moment}: RSS {reading['VmRSS'] / 1024:.1f} MB (anonymous {reading['RssAnon'] / 1024:.1f}, "
        f"file {reading['RssFile'] / 1024:.1f})")
