"""Dynamic pools (scripts/bench --pools): dynamism's new allocations and renewals per second with
the scripts' store in SQLite or in a PostgreSQL shared by two daemons, and what the PostgreSQL store
costs static clients. docs/BENCHMARK.md, "Dynamic pools (--pools)", says how to read the report.

Topology (made and deleted by scripts/bench; RFC 5737 addresses only):

    client ns: br0 198.51.100.2/24 (relay of daemon A), 198.51.100.4/24 (relay of daemon B);
               perfdhcp and renew_load run here, pinned to the load generator's CPU
    A ns: 198.51.100.1/24 (daemon A), 203.0.113.11/24 (to PostgreSQL)
    B ns: 198.51.100.3/24 (daemon B), 203.0.113.12/24
    pg ns: 203.0.113.1/24: PostgreSQL (initdb'd for the run into its own directory, deleted on exit)

All four hang off br0 by veth pairs. Each daemon has its own namespace, as in
Tests/e2e/test-cluster.sh. The pool's addresses are only ever carried inside DHCP payloads (yiaddr,
the store's keys); nothing configures or routes them. RFC 5737 has 3 x 256 addresses, far too few
for a pool that thousands of new clients a second fill for several seconds, so the pool is
198.18.0.2-198.18.255.254 in 198.18.0.0/15, the block RFC 2544 reserves for benchmarks.

What one measurement step does (every step starts fresh daemons, so no step inherits queues):
  * allocations: the store is emptied, the daemons start, a 1 s warm-up at WARMUP_RATE with MACs
    of another range (so the pool's hint, the store's connections and the interpreter are warm),
    then perfdhcp runs at the step's rate with MACs nobody has seen: every exchange is a new lease.
  * renewals: the store holds RENEW_LEASES bound leases written beforehand (as dynamism writes
    them); renew_load.c sends RENEWING-state REQUESTs for them (perfdhcp -f renews only what it
    acquired in the same run, at most at its DORA rate, so it cannot measure renewals alone). With
    the store in PostgreSQL the warm-up starts with a trickle (see WARMUP_TRICKLE).
  * static clients: the main bench's "SQLite + Lua hook" row, STORE_ENGINE SQLite or PostgreSQL.
CPU per exchange is utime + stime from /proc over the measured load only: of each daemon, and of
all of PostgreSQL's processes (the postmaster, its children, and children it has reaped).
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import reservations as rsv
from .perfdhcp import Perfdhcp, PerfdhcpError, parse_report
from .servers import HOOK_LUA, RunningServer, ServerSpec, ServerUnavailable
from .topology import Topology

POOL_NAME = "bench"
POOL_SUBNET = "198.18.0.0/15"
POOL_NETMASK = "255.254.0.0"
POOL_GATEWAY = "198.18.0.1"
POOL_FIRST = "198.18.0.2"
POOL_LAST = "198.18.255.254"
POOL_SIZE = 65533
LEASE_SECONDS = 3600
# perfdhcp's clients: 65,536 MACs 02:00:00:01:HH:LL. With two daemons, daemon B's perfdhcp walks the
# same 65,536 MACs from the middle (the low two bytes wrap: perfdhcp adds byte by byte without
# carry), so within one step each daemon's clients are new to both.
MAC_BASE = "02:00:00:01:00:00"
MAC_BASE_HALF = "02:00:00:01:80:00"
CLIENTS = 65536
WARMUP_MAC_BASE = "02:00:00:02:00:00"
WARMUP_MAC_BASE_HALF = "02:00:00:02:80:00"
WARMUP_RATE = 100
# With the store in PostgreSQL every request that arrives before dynamism's first scan of the pool
# (its hint) has finished starts a scan of its own: at 100/s, 13 scans of 30,000 leases at once, and
# no answer within the first 1.3 s. A trickle first lets one scan finish (pools.py's warm-up).
WARMUP_TRICKLE = 5
WARMUP_SECONDS = 1
RENEW_LEASES = 30000
STATIC_CLIENTS = 10000
ALLOCATION_DROP_LIMIT = 0.01   # "clean" for the pools: at most 1 % of exchanges lost
STATIC_DROP_LIMIT = 0.001      # as the main bench (measure.CLEAN_DROP_RATIO), for comparable rows
GENERATOR_SHORTFALL = 0.90
SETTLE_SECONDS = 1.0
PG_DATABASE = "dhcpstore"
PG_USER = "staticdhcpd"
PG_PORT = 5432
RENEW_SOURCE = Path(__file__).with_name("renew_load.c")
LEASE_CHECK = Path(__file__).resolve().parents[3] / "Tests" / "e2e" / "lease_check.py"
EXTENSIONS = Path(__file__).resolve().parents[3] / "staticDHCPd_extensions"


# --------------------------------------------------------------------------------------------
# Pure helpers (selftest.py covers them)

def round_rate(rate: float) -> int:
    """Step rates: whole hundreds from 1,000/s, fifties from 100/s, tens below."""
    def nearest(unit: int) -> int:
        return int(rate / unit + 0.5) * unit
    if rate >= 1000:
        return nearest(100)
    if rate >= 100:
        return max(100, nearest(50))
    return max(10, nearest(10))


def pool_address(index: int) -> str:
    """The pool's index-th address (0 = POOL_FIRST), in address order."""
    value = (198 << 24) + (18 << 16) + 2 + index
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def address_key(ip: str) -> str:
    """dynamism's A/ key of an address (zero-padded octets, so that key order is address order)."""
    return f"dynamism/{POOL_NAME}/A/" + ".".join(f"{int(part):03d}" for part in ip.split("."))


def lease_key(mac: str) -> str:
    return f"dynamism/{POOL_NAME}/L/{mac}"


def store_value(fields: dict) -> str:
    """A value as the daemon's StoreCodec writes a Lua table with string keys: JSON, keys sorted."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def renewal_leases(count: int, expires: int) -> list:
    """(mac, ip, [(key, value), ...]) for `count` bound leases: client k holds the pool's k-th address."""
    leases = []
    for index in range(count):
        mac, ip = rsv.mac_for(MAC_BASE, index), pool_address(index)
        rows = [(address_key(ip), store_value({"mac": mac, "state": "bound", "expires": expires})),
                (lease_key(mac), store_value({"ip": ip, "state": "bound", "expires": expires}))]
        leases.append((mac, ip, rows))
    return leases


def serving_lines(text: str) -> list:
    """The lines of a daemon's output after its start-up banner ("All subsystems initialised") and
    before "System shutdown beginning"; all of them when neither appears."""
    lines = text.splitlines()
    start = next((index + 1 for index, line in enumerate(lines) if "All subsystems initialised" in line), 0)
    end = next((index for index, line in enumerate(lines) if "System shutdown beginning" in line and index >= start),
               len(lines))
    return lines[start:end]


def parse_proc_stat(text: str) -> tuple:
    """(ppid, own CPU ticks utime + stime, reaped children's ticks cutime + cstime) of /proc/PID/stat."""
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


RENEW_LINE = re.compile(r"^renew_load: sent (\d+) acked (\d+) naked (\d+) unanswered (\d+) late (\d+) "
                        r"p50_ms ([0-9.]+) p99_ms ([0-9.]+) elapsed ([0-9.]+)$", re.M)


@dataclass
class LoadCounts:
    """One load generator's run: perfdhcp's DORA or renew_load's RENEWs. An exchange is a full DORA
    (allocations, static clients) or one REQUEST-ACK (renewals)."""
    initiated: int
    completed: int
    lost: int
    p50_ms: Optional[float] = None
    p99_ms: Optional[float] = None
    naked: int = 0

    @property
    def drop_ratio(self) -> float:
        return self.lost / self.initiated if self.initiated else 1.0


def parse_renew_output(text: str) -> LoadCounts:
    match = RENEW_LINE.search(text)
    if not match:
        raise PerfdhcpError("renew_load printed no summary line:\n" + text[-1000:])
    sent, acked, naked, unanswered, late = (int(match.group(index)) for index in range(1, 6))
    return LoadCounts(sent, acked, sent - acked, float(match.group(6)), float(match.group(7)), naked)


def counts_from_perfdhcp(text: str, rate: int, seconds: float) -> LoadCounts:
    result = parse_report(text, rate, seconds)
    return LoadCounts(result.initiated, result.completed, result.drops)


def verdict(loads: list, rate: int, seconds: float, drop_limit: float) -> str:
    """'clean' when every generator lost at most drop_limit of its exchanges and sent at least 90 %
    of what was due; 'drops' or 'short' otherwise."""
    if any(load.drop_ratio > drop_limit for load in loads):
        return "drops"
    if any(load.initiated < GENERATOR_SHORTFALL * rate * seconds for load in loads):
        return "short"
    return "clean"


@dataclass
class StoreCheck:
    """What the store holds for the measured clients after a step (dynamism's A/ and L/ records)."""
    bound: int = 0          # MACs whose L/ record says bound and whose address's A/ record names them
    offered: int = 0        # the same, still "offered" (an OFFER whose REQUEST never came)
    duplicates: int = 0     # addresses that the L/ records of two or more MACs claim
    mismatched: int = 0     # L/ records whose address's A/ record is missing or names another MAC
    moved: int = 0          # (renewals) leases no longer at the address they were given
    error: str = ""

    def summary(self) -> str:
        if self.error:
            return f"store check failed: {self.error}"
        return (f"{self.bound:,} bound, {self.offered:,} offered, {self.duplicates} duplicate addresses, "
                f"{self.mismatched} inconsistent, {self.moved} moved")


def check_store(rows: list, mac_prefix: str, expected: Optional[dict] = None) -> StoreCheck:
    """rows: (key, value text) of the pool's records. Only L/ records of MACs starting mac_prefix
    count (the warm-up's MACs do not). `expected`: MAC -> address each must still hold (renewals)."""
    holders, leases = {}, {}
    address_prefix, lease_prefix = f"dynamism/{POOL_NAME}/A/", f"dynamism/{POOL_NAME}/L/"
    for key, value in rows:
        try:
            record = json.loads(value)
        except ValueError:
            continue
        if key.startswith(address_prefix):
            ip = ".".join(str(int(part)) for part in key[len(address_prefix):].split("."))
            holders[ip] = record
        elif key.startswith(lease_prefix) and key[len(lease_prefix):].startswith(mac_prefix):
            leases[key[len(lease_prefix):]] = record
    check = StoreCheck()
    claims = {}
    for mac, record in leases.items():
        ip = record.get("ip") if isinstance(record, dict) else None
        if not isinstance(ip, str):
            check.mismatched += 1
            continue
        claims.setdefault(ip, set()).add(mac)
        holder = holders.get(ip)
        if not isinstance(holder, dict) or holder.get("mac") != mac:
            check.mismatched += 1
        elif holder.get("state") == "bound":
            check.bound += 1
        else:
            check.offered += 1
        if expected is not None and expected.get(mac, ip) != ip:
            check.moved += 1
    check.duplicates = sum(1 for macs in claims.values() if len(macs) > 1)
    return check


def median_spread(values: list) -> Optional[tuple]:
    """(median, min, max) of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return statistics.median(present), min(present), max(present)


@dataclass(frozen=True)
class SearchPlan:
    """Run 1 doubles from first_rate until a step is not clean, then bisects; each later run starts
    at the previous run's result and moves by `nudge` (up while clean, down until clean)."""
    first_rate: int
    max_rate: int
    step_seconds: float
    runs: int = 3
    bisect_steps: int = 2
    nudge: float = 0.10
    nudge_up: int = 2
    nudge_down: int = 3
    min_rate: int = 50


@dataclass
class Step:
    """One measurement: every generator at `rate` (per daemon) for `seconds`."""
    rate: int
    seconds: float
    verdict: str
    loads: list = field(default_factory=list)          # LoadCounts per generator (daemon A first)
    cpu_us: dict = field(default_factory=dict)         # process name -> CPU µs per exchange
    store: Optional[StoreCheck] = None
    postgres: dict = field(default_factory=dict)       # conflicts PostgreSQL logged during the load
    log_lines: list = field(default_factory=list)      # WARNING/ERROR/CRITICAL lines of the daemons
    captures: dict = field(default_factory=dict)       # daemon -> (pcap path, frames the tap dropped)
    run: int = 0

    @property
    def clean(self) -> bool:
        return self.verdict == "clean"

    @property
    def offered_total(self) -> int:
        return self.rate * max(1, len(self.loads))

    @property
    def completed_per_second(self) -> float:
        return sum(load.completed for load in self.loads) / self.seconds if self.seconds else 0.0

    def cpu_share(self, name: str) -> Optional[float]:
        """How much of one CPU the process used during the load, in percent: its CPU per exchange
        times the exchanges it served (PostgreSQL: all of them), over the load's length."""
        value = self.cpu_us.get(name)
        if value is None or not self.seconds:
            return None
        if name == "PostgreSQL":
            served = sum(load.completed for load in self.loads)
        else:
            index = "AB".index(name)
            served = self.loads[index].completed if index < len(self.loads) else 0
        return value * served / self.seconds / 1e4

    @property
    def drop_ratio(self) -> float:
        initiated = sum(load.initiated for load in self.loads)
        return sum(load.lost for load in self.loads) / initiated if initiated else 1.0


def search_run(step: Callable[[int], Step], plan: SearchPlan, seed: Optional[int] = None) -> tuple:
    """One run of the stepped search: (the highest clean Step or None, every Step taken)."""
    taken = []

    def measure(rate: int) -> Step:
        result = step(rate)
        taken.append(result)
        return result

    best = None
    if seed is None:
        low = high = None
        rate = plan.first_rate
        while rate <= plan.max_rate:
            result = measure(rate)
            if not result.clean:
                high = rate
                break
            low, best = rate, result
            if rate == plan.max_rate:
                break
            rate = min(plan.max_rate, round_rate(rate * 2))
        if low is None:
            rate = high
            while rate > plan.min_rate:
                rate = round_rate(rate / 2)
                result = measure(rate)
                if result.clean:
                    low, best = rate, result
                    break
                high = rate
        if low is not None and high is not None:
            for _ in range(plan.bisect_steps):
                middle = round_rate((low + high) / 2)
                if middle <= low or middle >= high or high - low <= max(50, low // 20):
                    break
                result = measure(middle)
                if result.clean:
                    low, best = middle, result
                else:
                    high = middle
        return best, taken
    result = measure(seed)
    if result.clean:
        best, rate = result, seed
        for _ in range(plan.nudge_up):
            rate = min(plan.max_rate, round_rate(rate * (1 + plan.nudge)))
            if rate <= best.rate:
                break
            result = measure(rate)
            if not result.clean:
                break
            best = result
    else:
        rate = seed
        for _ in range(plan.nudge_down):
            rate = round_rate(rate * (1 - plan.nudge))
            if rate < plan.min_rate:
                break
            result = measure(rate)
            if result.clean:
                best = result
                break
    return best, taken


def search(step: Callable[[int, int], Step], plan: SearchPlan, log) -> tuple:
    """plan.runs runs, each later one seeded with the previous result: (best Step per run, all Steps)."""
    bests, steps, seed = [], [], None
    for run in range(1, plan.runs + 1):
        log(f"   run {run}" + (f" (from {seed:,}/s)" if seed else ""))
        best, taken = search_run(lambda rate: step(rate, run), plan, seed)
        bests.append(best)
        steps += taken
        if best is not None:
            seed = best.rate
        elif seed is None:
            seed = plan.first_rate
    return bests, steps


# --------------------------------------------------------------------------------------------
# The topology, PostgreSQL and the daemons

@dataclass(frozen=True)
class Site:
    """One daemon's place: its namespace and interface, its address, and its relay's (perfdhcp's -l)."""
    name: str
    ns: str
    iface: str
    server_ip: str
    relay_ip: str

    def topology(self, client_ns: str) -> Topology:
        return Topology(self.ns, client_ns, self.iface, self.server_ip, self.relay_ip)


@dataclass(frozen=True)
class PoolsTopology:
    client_ns: str
    sites: tuple
    pg_ns: str
    pg_ip: str = "203.0.113.1"
    pg_network: str = "203.0.113.0/24"


def make_sites(a_ns: str, a_if: str, b_ns: str, b_if: str) -> tuple:
    return (Site("A", a_ns, a_if, "198.51.100.1", "198.51.100.2"),
            Site("B", b_ns, b_if, "198.51.100.3", "198.51.100.4"))


def extensions_copy(workdir: Path) -> Path:
    """The repository's staticDHCPd_extensions as they are when the bench starts, copied once, so
    that every daemon of the run loads the same dynamism.lua."""
    copy = workdir / "staticDHCPd_extensions"
    if not copy.exists():
        shutil.copytree(EXTENSIONS, copy)
    return copy


def _ticks() -> int:
    return os.sysconf(os.sysconf_names["SC_CLK_TCK"])


class PostgreSQL:
    """A throw-away PostgreSQL in the pg namespace, as Tests/e2e/lib.sh's e2e_pg_start makes one:
    initdb into `directory` (owned by postgres), run as postgres, scram-sha-256 over TCP from the
    daemons' network, trust on its own unix socket (in `directory`). PostgreSQL's own defaults
    otherwise (fsync, synchronous_commit on), as a site would run it."""

    def __init__(self, directory: Path, topology: PoolsTopology, cpus: str, log):
        self.directory = directory
        self.topology = topology
        self.cpus = cpus
        self.log = log
        self.password = "bench-" + os.urandom(6).hex()
        self.bin = self._binaries()
        self.data = directory / "data"
        self.server_log = directory / "server.log"
        self.version = ""

    @staticmethod
    def _binaries() -> Path:
        for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                                key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
                                reverse=True):
            if (candidate / "initdb").exists():
                return candidate
        raise ServerUnavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; Debian package postgresql)")

    def _as_postgres(self, tool: str, *arguments, namespace: bool = False, input_text: Optional[str] = None,
                     timeout: float = 60) -> subprocess.CompletedProcess:
        command = ["runuser", "-u", "postgres", "--", "/usr/bin/env", "-C", "/tmp", str(self.bin / tool), *arguments]
        if namespace:
            command = ["ip", "netns", "exec", self.topology.pg_ns, "taskset", "-c", self.cpus] + command
        return subprocess.run(command, capture_output=True, text=True, input=input_text, timeout=timeout)

    def start(self) -> None:
        self.data.mkdir(parents=True)
        shutil.chown(self.directory, "postgres", "postgres")
        shutil.chown(self.data, "postgres", "postgres")
        done = self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                                 "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.topology.pg_network} scram-sha-256\n")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '{self.topology.pg_ip}'\nport = {PG_PORT}\n"
                       f"unix_socket_directories = '{self.directory}'\nmax_connections = 100\n")
        done = self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.server_log), "-w", "-t", "30",
                                 "start", namespace=True)
        if done.returncode != 0:
            raise ServerUnavailable(f"PostgreSQL did not start: {done.stderr.strip()[-300:]} {self.tail()}")
        self.psql(f"CREATE ROLE \"{PG_USER}\" LOGIN PASSWORD '{self.password}'", database="postgres")
        self.psql(f"CREATE DATABASE \"{PG_DATABASE}\" OWNER \"{PG_USER}\"", database="postgres")
        self.version = self.psql("SHOW server_version", database="postgres").strip()
        # The store's tables, exactly as PostgreSQLStore.prepare() makes them, owned by the daemons'
        # role: the bench writes leases into them before a daemon ever starts.
        self.psql("""
            CREATE TABLE staticdhcpd_schema (component text PRIMARY KEY, version integer NOT NULL);
            CREATE TABLE staticdhcpd_store (key text COLLATE "C" PRIMARY KEY, value text NOT NULL,
                                            updated_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO staticdhcpd_schema (component, version) VALUES ('store', 1);
            """, user=PG_USER)

    def settings(self) -> dict:
        names = ("fsync", "synchronous_commit", "shared_buffers", "wal_level")
        rows = self.psql("SELECT name, setting FROM pg_settings WHERE name IN ("
                         + ", ".join(f"'{name}'" for name in names) + ") ORDER BY name")
        return dict(line.split("|", 1) for line in rows.splitlines() if "|" in line)

    def psql(self, sql: str, database: str = PG_DATABASE, user: str = "postgres", input_text: Optional[str] = None) -> str:
        arguments = ["-X", "-q", "-A", "-t", "-h", str(self.directory), "-p", str(PG_PORT), "-U", user, "-d", database,
                     "-v", "ON_ERROR_STOP=1"]
        arguments += ["-f", "-"] if input_text is None else ["-c", sql]
        done = self._as_postgres("psql", *arguments, input_text=sql if input_text is None else input_text, timeout=120)
        if done.returncode != 0:
            raise ServerUnavailable(f"psql failed ({sql.strip()[:80]}...): {done.stderr.strip()[-400:]}")
        return done.stdout

    def conf_lines(self) -> list:
        return ['STORE_ENGINE = "PostgreSQL"', f'POSTGRESQL_HOST = "{self.topology.pg_ip}"',
                f"POSTGRESQL_PORT = {PG_PORT}", f'POSTGRESQL_DATABASE = "{PG_DATABASE}"',
                f'POSTGRESQL_USERNAME = "{PG_USER}"', f'POSTGRESQL_PASSWORD = "{self.password}"',
                'POSTGRESQL_SSLMODE = "disable"']

    def clear_store(self) -> None:
        self.psql("TRUNCATE staticdhcpd_store", user=PG_USER)

    def load_rows(self, rows: list) -> None:
        """Replaces the store's rows with (key, value) pairs (COPY: tab-separated, no tab in them)."""
        text = "".join(f"{key}\t{value}\n" for key, value in rows)
        self.psql("TRUNCATE staticdhcpd_store", user=PG_USER)
        self.psql("COPY staticdhcpd_store (key, value) FROM STDIN", user=PG_USER, input_text=text)
        self.psql("ANALYZE staticdhcpd_store", user=PG_USER)

    def pool_rows(self) -> list:
        out = self.psql(f"COPY (SELECT key, value FROM staticdhcpd_store WHERE key LIKE 'dynamism/{POOL_NAME}/%') TO STDOUT",
                        user=PG_USER)
        return [tuple(line.split("\t", 1)) for line in out.splitlines() if "\t" in line]

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self) -> float:
        """utime + stime of the postmaster and every child, plus what its reaped children used."""
        postmaster = self.postmaster_pid()
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid, own, reaped = parse_proc_stat((entry / "stat").read_text())
            except (OSError, IndexError, ValueError):
                continue
            if int(entry.name) == postmaster:
                total += own + reaped
            elif ppid == postmaster:
                total += own
        return total / _ticks()

    def counters(self) -> dict:
        """The conflicts PostgreSQL has logged so far (serialization failures and deadlocks: each is
        one store.transaction attempt rolled back and run again). From the server's log, which is
        written at once; pg_stat_database's counters reach the statistics only when a backend has
        been idle for a while or exits, so they cannot be split at the start of a measurement."""
        try:
            text = self.server_log.read_text(errors="replace")
        except OSError:
            text = ""
        return {"conflicts": text.count("could not serialize access") + text.count("deadlock detected")}

    def tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.server_log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        done = self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
        if done.returncode != 0:
            self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "10", "stop")


@dataclass
class Config:
    """One configuration of the daemons: which store, how many daemons, pools or static clients."""
    key: str
    label: str
    store: str          # "SQLite" or "PostgreSQL"
    daemons: int
    pools: bool = True  # dynamism pools (unknown MACs); False: static reservations + the bench's hook


class Fleet:
    """Starts, measures and stops a configuration's daemons."""

    def __init__(self, config: Config, topology: PoolsTopology, workdir: Path, binary: str, cpu: int,
                 postgres: Optional[PostgreSQL], reservations_db: Path):
        self.config = config
        self.topology = topology
        self.binary = binary
        self.cpu = cpu
        self.postgres = postgres
        self.sites = topology.sites[:config.daemons]
        self.dirs = {}
        self.servers = []
        for site in self.sites:
            directory = workdir / config.key / site.name
            directory.mkdir(parents=True, exist_ok=True)
            link = directory / "staticDHCPd_extensions"
            if not link.exists():
                link.symlink_to(extensions_copy(workdir))
            (directory / "conf.lua").write_text(self.conf_text(site, directory, reservations_db))
            self.dirs[site.name] = directory

    def conf_text(self, site: Site, directory: Path, reservations_db: Path) -> str:
        lines = [
            f'DHCP_SERVER_IP = "{site.server_ip}"', "ALLOW_DHCP_RELAYS = true", "ENABLE_SUSPEND = false",
            'DATABASE_ENGINE = "SQLite"', f'SQLITE_FILE = "{reservations_db}"', 'LOG_CONSOLE_SEVERITY = "WARN"',
            "DAEMON = false", "WEB_ENABLED = false", f'STATE_DIRECTORY = "{directory / "state"}"',
            f'PID_FILE = "{directory / "staticdhcpd.pid"}"',
        ]
        if self.config.store == "PostgreSQL":
            lines += self.postgres.conf_lines()
        text = "\n".join(lines) + "\n"
        if not self.config.pools:
            return text + HOOK_LUA
        relays = ", ".join(f'"{s.relay_ip}"' for s in self.topology.sites)
        return text + f"""
function init()
  extensions.dynamism.pools = {{
    {{ name = "{POOL_NAME}", subnet = "{POOL_SUBNET}", serial = 0, first = "{POOL_FIRST}", last = "{POOL_LAST}",
      lease_time = {LEASE_SECONDS}, relays = {{{relays}}}, direct = false,
      subnet_mask = "{POOL_NETMASK}", gateways = {{"{POOL_GATEWAY}"}} }},
  }}
  dynamism = require "dynamism"
end

function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
  return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
end

function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  dynamism.loadDHCPPacket(packet, method, mac, definition)
  return true
end
"""

    def state_file(self) -> Path:
        return self.dirs["A"] / "state" / "store.sqlite3"

    def clear_store(self) -> None:
        if self.config.store == "PostgreSQL":
            self.postgres.clear_store()
        else:
            for directory in self.dirs.values():
                for path in (directory / "state").glob("store.sqlite3*"):
                    path.unlink()

    def load_leases(self, rows: list) -> None:
        if self.config.store == "PostgreSQL":
            self.postgres.load_rows(rows)
            return
        self.clear_store()
        (self.dirs["A"] / "state").mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.state_file()) as database:
            database.execute("PRAGMA journal_mode = WAL")
            database.execute("CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID")
            database.executemany("INSERT OR REPLACE INTO store (key, value) VALUES (?, ?)", rows)
        # Leave a clean file (no WAL) for the daemon, as a daemon that stopped would.
        database.close()

    def pool_rows(self) -> list:
        if self.config.store == "PostgreSQL":
            return self.postgres.pool_rows()
        path = self.state_file()
        if not path.exists():
            return []
        database = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return database.execute("SELECT key, value FROM store WHERE key LIKE ?", (f"dynamism/{POOL_NAME}/%",)).fetchall()
        finally:
            database.close()

    def start(self) -> None:
        self.servers = []
        spec = ServerSpec(self.config.label, "ours", "ours", binary=self.binary)
        try:
            for site in self.sites:
                directory = self.dirs[site.name]
                argv = [self.binary, "--config", str(directory / "conf.lua")]
                server = RunningServer(spec, argv, site.topology(self.topology.client_ns), directory, self.cpu)
                self.servers.append(server)
                server.wait_listening()
        except ServerUnavailable:
            self.stop()
            raise

    def cpu_seconds(self) -> list:
        return [server.cpu_seconds() for server in self.servers]

    def alive(self) -> bool:
        return all(server.alive() for server in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def log_lines(self) -> list:
        """WARNING, ERROR and CRITICAL lines the daemons wrote while serving (the start-up banner,
        which is logged at WARNING, and the shutdown lines left out)."""
        found = []
        for site, server in zip(self.sites, self.servers):
            try:
                text = server.log_path.read_text(errors="replace")
            except OSError:
                continue
            found += [f"{site.name}: {line.strip()}" for line in serving_lines(text)
                      if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)]
        return found

    def keep_logs(self, label: str) -> None:
        """Appends each daemon's output of this start to server-all.out beside it (server.out is
        rewritten at every start)."""
        for server in self.servers:
            try:
                text = server.log_path.read_text(errors="replace")
            except OSError:
                continue
            with open(server.log_path.with_name("server-all.out"), "a") as kept:
                kept.write(f"===== {label}\n{text}")

    def tails(self) -> str:
        return "; ".join(f"{site.name}: {server.tail()}" for site, server in zip(self.sites, self.servers))


# --------------------------------------------------------------------------------------------
# Load generators

class Generators:
    """perfdhcp (DORA) or renew_load (RENEWs), one per daemon, run at once, pinned to one CPU."""

    def __init__(self, topology: PoolsTopology, cpu: int, renew_binary: Optional[Path], workdir: Path):
        self.topology = topology
        self.cpu = cpu
        self.renew_binary = renew_binary
        self.workdir = workdir

    def perfdhcp(self, site: Site, base: str, clients: int, releases: bool = False) -> Perfdhcp:
        return Perfdhcp(site.topology(self.topology.client_ns), clients, base, releases, cpu=self.cpu)

    def run(self, commands: list, seconds: float, parse: Callable[[str], LoadCounts]) -> list:
        processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      start_new_session=True) for argv in commands]
        outputs = []
        try:
            for process in processes:
                try:
                    out, err = process.communicate(timeout=seconds + 30)
                except subprocess.TimeoutExpired as error:
                    raise PerfdhcpError(f"a load generator did not finish within {seconds + 30:g} s") from error
                if process.returncode not in (0, 3):
                    raise PerfdhcpError(f"load generator exited {process.returncode}: {err.strip()[-600:]}")
                outputs.append(out)
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        return [parse(out) for out in outputs]

    def dora(self, plans: list, rate: int, seconds: float) -> list:
        """plans: (site, mac base, clients, releases) per generator."""
        commands = [self.perfdhcp(site, base, clients, releases).argv(rate, seconds) for site, base, clients, releases in plans]
        return self.run(commands, seconds, lambda text: counts_from_perfdhcp(text, rate, seconds))

    def renew(self, plans: list, rate: int, seconds: float, leases_file: Path) -> list:
        """plans: (site, first lease) per generator."""
        commands = [self.topology_cmd(["taskset", "-c", str(self.cpu), str(self.renew_binary), site.relay_ip,
                                       site.server_ip, str(leases_file), str(rate), f"{seconds:g}", str(first), "300"])
                    for site, first in plans]
        return self.run(commands, seconds, parse_renew_output)

    def topology_cmd(self, argv: list) -> list:
        return ["ip", "netns", "exec", self.topology.client_ns] + argv


def build_renew_load(workdir: Path) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        raise ServerUnavailable("no C compiler (cc, gcc or clang) to build renew_load.c")
    binary = workdir / "renew_load"
    built = subprocess.run([compiler, "-O2", "-o", str(binary), str(RENEW_SOURCE)], capture_output=True, text=True)
    if built.returncode != 0:
        raise ServerUnavailable(f"renew_load.c did not compile: {built.stderr.strip()[:400]}")
    return binary


# --------------------------------------------------------------------------------------------
# Steps

@dataclass
class Workload:
    """What a step runs: 'allocate' (new clients), 'renew' (RENEWs of stored leases) or 'static'
    (reserved clients with a RELEASE after each exchange, as the main bench)."""
    kind: str
    drop_limit: float


class Bench:
    def __init__(self, topology: PoolsTopology, workdir: Path, binary: str, server_cpu: int, client_cpu: int,
                 postgres: Optional[PostgreSQL], log):
        self.topology = topology
        self.workdir = workdir
        self.binary = binary
        self.server_cpu = server_cpu
        self.client_cpu = client_cpu
        self.postgres = postgres
        self.log = log
        self.renew_binary = build_renew_load(workdir)
        self.generators = Generators(topology, client_cpu, self.renew_binary, workdir)
        self.empty_db = workdir / "no-reservations.sqlite3"
        self.static_db = workdir / "reservations.sqlite3"
        for path, entries in ((self.empty_db, []), (self.static_db, rsv.reservations(MAC_BASE, STATIC_CLIENTS))):
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
            loaded = subprocess.run(["sqlite3", str(path)], input=rsv.sqlite_script(entries), capture_output=True, text=True)
            if loaded.returncode != 0:
                raise ServerUnavailable(f"sqlite3 could not build {path}: {loaded.stderr.strip()}")
        expires = int(time.time()) + 7 * 24 * 3600
        self.renewals = renewal_leases(RENEW_LEASES, expires)
        self.renew_file = workdir / "renew-leases.txt"
        self.renew_file.write_text("".join(f"{mac} {ip}\n" for mac, ip, _ in self.renewals))
        self.renew_rows = [row for _, _, rows in self.renewals for row in rows]
        self.renew_expected = {mac: ip for mac, ip, _ in self.renewals}
        self.fleets = {}

    def fleet(self, config: Config) -> Fleet:
        if config.key not in self.fleets:
            database = self.empty_db if config.pools else self.static_db
            self.fleets[config.key] = Fleet(config, self.topology, self.workdir, self.binary, self.server_cpu,
                                            self.postgres if config.store == "PostgreSQL" else None, database)
        return self.fleets[config.key]

    def prepare_store(self, fleet: Fleet, workload: Workload) -> None:
        if workload.kind == "allocate":
            fleet.clear_store()
        elif workload.kind == "renew":
            fleet.load_leases(self.renew_rows)
        else:
            fleet.clear_store()

    def warm_up(self, fleet: Fleet, workload: Workload) -> None:
        """Light load on every daemon before the measurement: first a trickle (WARMUP_TRICKLE/s),
        whose first request makes dynamism read the pool's hint (one scan of the store), then
        WARMUP_RATE/s. Fails when the second part gets no answer at all."""
        sites = fleet.sites
        # Only a store already holding leases, in PostgreSQL, makes the first scan slow (a local
        # store's calls do not suspend, so no second request starts a scan meanwhile).
        trickle = workload.kind == "renew" and fleet.config.store == "PostgreSQL"
        for rate in ((WARMUP_TRICKLE, WARMUP_RATE) if trickle else (WARMUP_RATE,)):
            if workload.kind == "renew":
                loads = self.generators.renew([(site, index * 997) for index, site in enumerate(sites)],
                                              rate, WARMUP_SECONDS, self.renew_file)
            elif workload.kind == "allocate":
                bases = (WARMUP_MAC_BASE, WARMUP_MAC_BASE_HALF)
                loads = self.generators.dora([(site, base, CLIENTS, False) for site, base in zip(sites, bases)],
                                             rate, WARMUP_SECONDS)
            else:
                loads = self.generators.dora([(site, MAC_BASE, STATIC_CLIENTS, True) for site in sites],
                                             rate, WARMUP_SECONDS)
        if any(load.completed == 0 for load in loads):
            raise ServerUnavailable(f"no answer in the warm-up ({fleet.tails()})")

    def load(self, fleet: Fleet, workload: Workload, rate: int, seconds: float, shared_macs: bool = False) -> list:
        sites = fleet.sites
        if workload.kind == "renew":
            return self.generators.renew([(site, index * RENEW_LEASES // len(sites)) for index, site in enumerate(sites)],
                                         rate, seconds, self.renew_file)
        if workload.kind == "allocate":
            bases = [MAC_BASE] * len(sites) if shared_macs else [MAC_BASE, MAC_BASE_HALF][:len(sites)]
            return self.generators.dora([(site, base, CLIENTS, False) for site, base in zip(sites, bases)], rate, seconds)
        return self.generators.dora([(site, MAC_BASE, STATIC_CLIENTS, True) for site in sites], rate, seconds)

    def step(self, config: Config, workload: Workload, rate: int, seconds: float, run: int = 0,
             capture: Optional[Path] = None, shared_macs: bool = False) -> Step:
        fleet = self.fleet(config)
        self.prepare_store(fleet, workload)
        fleet.start()
        taps = []
        try:
            self.warm_up(fleet, workload)
            pg_before = self.postgres.counters() if config.store == "PostgreSQL" else None
            pg_cpu_before = self.postgres.cpu_seconds() if config.store == "PostgreSQL" else None
            if capture is not None:
                taps = [start_capture(site, capture / f"{site.name}.pcap", self.client_cpu) for site in fleet.sites]
            cpu_before = fleet.cpu_seconds()
            loads = self.load(fleet, workload, rate, seconds, shared_macs)
            time.sleep(SETTLE_SECONDS)
            if not fleet.alive():
                raise PerfdhcpError(f"a daemon exited during the run: {fleet.tails()}")
            cpu_after = fleet.cpu_seconds()
        finally:
            for tap in taps:
                tap.stop()
            fleet.stop()
            fleet.keep_logs(f"{workload.kind} {rate}/s run {run}")
        result = Step(rate, seconds, verdict(loads, rate, seconds, workload.drop_limit), loads, run=run)
        result.captures = {site.name: (tap.path, tap.kernel_drops()) for site, tap in zip(fleet.sites, taps)}
        completed = sum(load.completed for load in loads)
        for site, load, before, after in zip(fleet.sites, loads, cpu_before, cpu_after):
            result.cpu_us[site.name] = (after - before) / load.completed * 1e6 if load.completed else None
        if config.store == "PostgreSQL":
            time.sleep(0.3)  # the daemons' backends exit and are reaped: their CPU moves to the postmaster
            pg_cpu = self.postgres.cpu_seconds() - pg_cpu_before
            after = self.postgres.counters()
            result.cpu_us["PostgreSQL"] = pg_cpu / completed * 1e6 if completed else None
            result.postgres = {name: after[name] - pg_before[name] for name in after}
        result.log_lines = fleet.log_lines()
        if workload.kind in ("allocate", "renew"):
            try:
                rows = fleet.pool_rows()
                prefix = "02:00:00:01:"
                result.store = check_store(rows, prefix, self.renew_expected if workload.kind == "renew" else None)
            except (ServerUnavailable, sqlite3.Error, OSError) as error:
                result.store = StoreCheck(error=str(error))
        self.log("    " + describe_step(result))
        for line in result.log_lines[:3]:
            self.log(f"      log: {line[:200]}")
        return result


def describe_step(step: Step) -> str:
    loads = ", ".join(f"{load.completed / step.seconds:,.0f}/s done, {load.drop_ratio * 100:.2f} % lost" for load in step.loads)
    cpu = ", ".join(f"{name} {value:.0f}" for name, value in step.cpu_us.items() if value is not None)
    extra = ""
    if step.postgres:
        extra = f"; {step.postgres['conflicts']} conflicts (retried transactions)"
    store = f"; store: {step.store.summary()}" if step.store else ""
    logged = f"; {len(step.log_lines)} warning/error lines" if step.log_lines else ""
    return f"{step.rate:>6,}/s x{len(step.loads)} -> {step.verdict} ({loads}; CPU µs/exchange {cpu}{extra}{store}{logged})"


class Capture:
    """tcpdump of one daemon's outgoing replies (for lease_check.py), on the load generator's CPU."""

    def __init__(self, site: Site, path: Path, cpu: int):
        self.path = path
        self.err_path = path.with_suffix(".err")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.err = open(self.err_path, "w")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", site.ns, "taskset", "-c", str(cpu), "tcpdump", "-i", site.iface, "-Q", "out",
             "--immediate-mode", "-Z", "root", "-nn", "-U", "-s", "0", "-B", "65536", "-w", str(path),
             "udp and src port 67"], stdout=subprocess.DEVNULL, stderr=self.err, start_new_session=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "listening on" not in self.err_path.read_text(errors="replace"):
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            time.sleep(0.3)
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.err.close()

    def kernel_drops(self) -> Optional[int]:
        match = re.search(r"^(\d+) packets dropped by kernel", self.err_path.read_text(errors="replace"), re.M)
        return int(match.group(1)) if match else None


def start_capture(site: Site, path: Path, cpu: int) -> Capture:
    return Capture(site, path, cpu)


LEASE_CHECK_LINE = re.compile(r"^lease_check: ACKs (?P<acks>.*?); distinct MACs (?P<macs>\d+); distinct addresses "
                              r"(?P<addresses>\d+); MACs ACKed by several servers (?P<shared>\d+); duplicates "
                              r"(?P<duplicates>\d+) addresses \((?P<conflicting>\d+) conflicting ACKs\); changed "
                              r"addresses (?P<changed>\d+) MACs", re.M)


@dataclass
class WireCheck:
    label: str
    rate: int = 0
    daemons: int = 1
    acks: int = 0
    macs: int = 0
    addresses: int = 0
    shared: int = 0
    duplicates: Optional[int] = None
    changed: Optional[int] = None
    tap_drops: list = field(default_factory=list)
    status: Optional[int] = None
    step: Optional[Step] = None
    error: str = ""

    @property
    def passed(self) -> bool:
        return (not self.error and self.duplicates == 0 and self.changed == 0 and self.acks > 0
                and all(drops == 0 for drops in self.tap_drops))


def parse_lease_check(text: str, check: WireCheck) -> WireCheck:
    match = LEASE_CHECK_LINE.search(text)
    if not match:
        check.error = "lease_check printed no summary: " + text.strip()[-300:]
        return check
    check.acks = sum(int(part.split("=", 1)[1]) for part in match.group("acks").split() if "=" in part)
    check.macs, check.addresses = int(match.group("macs")), int(match.group("addresses"))
    check.shared = int(match.group("shared"))
    check.duplicates, check.changed = int(match.group("duplicates")), int(match.group("changed"))
    return check


def run_lease_check(captures: dict, check: WireCheck) -> WireCheck:
    done = subprocess.run([os.environ.get("PYTHON", "python3"), str(LEASE_CHECK), "--lease-time", str(LEASE_SECONDS)]
                          + [f"{name}={path}" for name, path in captures.items()],
                          capture_output=True, text=True, timeout=300)
    check.status = done.returncode
    return parse_lease_check(done.stdout + done.stderr, check)


# --------------------------------------------------------------------------------------------
# The whole pools run

SQLITE_1 = Config("sqlite", "1 daemon, SQLite store", "SQLite", 1)
POSTGRES_1 = Config("pg1", "1 daemon, PostgreSQL store", "PostgreSQL", 1)
POSTGRES_2 = Config("pg2", "2 daemons, one PostgreSQL store", "PostgreSQL", 2)
STATIC_SQLITE = Config("static-sqlite", "SQLite + Lua hook, STORE_ENGINE SQLite", "SQLite", 1, pools=False)
STATIC_POSTGRES = Config("static-pg", "SQLite + Lua hook, STORE_ENGINE PostgreSQL", "PostgreSQL", 1, pools=False)
ALLOCATE = Workload("allocate", ALLOCATION_DROP_LIMIT)
RENEW = Workload("renew", ALLOCATION_DROP_LIMIT)
STATIC = Workload("static", STATIC_DROP_LIMIT)
STATIC_CPU_RATE = 10000        # the static rows' CPU is also compared at one fixed rate
STATIC_CPU_SECONDS = 5


@dataclass(frozen=True)
class PoolsPlan:
    """The searches, by (workload, configuration key). First rates are near what each configuration
    reached in trial runs on this kind of machine, so that run 1 needs few steps; rates are per daemon."""
    searches: dict
    static_cpu_pairs: int = 3
    static_cpu_seconds: float = STATIC_CPU_SECONDS
    wire_seconds: float = 4

    # (workload, configuration): (first rate, highest rate). A step of new clients must fit the
    # pool (65,533 addresses) and the MACs (65,536; 32,768 per daemon with two).
    RATES = {("allocate", "sqlite"): (1500, 14000), ("allocate", "pg1"): (250, 14000), ("allocate", "pg2"): (125, 8000),
             ("renew", "sqlite"): (4000, 32000), ("renew", "pg1"): (500, 32000), ("renew", "pg2"): (250, 16000),
             ("static", "static-sqlite"): (4000, 32000), ("static", "static-pg"): (4000, 32000)}

    @classmethod
    def full(cls) -> "PoolsPlan":
        # 4 s steps, three runs: the whole mode stays near 15 minutes.
        return cls({key: SearchPlan(first, top, 4) for key, (first, top) in cls.RATES.items()})

    @classmethod
    def quick(cls) -> "PoolsPlan":
        return cls({key: SearchPlan(first, top, 2, runs=1, bisect_steps=1) for key, (first, top) in cls.RATES.items()},
                   static_cpu_pairs=1, static_cpu_seconds=2, wire_seconds=2)

    @property
    def step_seconds(self) -> float:
        return next(iter(self.searches.values())).step_seconds

    @property
    def runs(self) -> int:
        return next(iter(self.searches.values())).runs


@dataclass
class Row:
    """One configuration under one workload: the best step of each run, and every step."""
    config: Config
    workload: str
    bests: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    fixed: list = field(default_factory=list)      # static rows: runs at STATIC_CPU_RATE
    error: str = ""


@dataclass
class PoolsResult:
    rows: list = field(default_factory=list)
    wire: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    postgres: dict = field(default_factory=dict)


def measure_row(bench: Bench, config: Config, workload: Workload, plan: SearchPlan, log) -> Row:
    row = Row(config, workload.kind)
    log(f"== {workload.kind}: {config.label}")
    try:
        row.bests, row.steps = search(lambda rate, run: bench.step(config, workload, rate, plan.step_seconds, run),
                                      plan, log)
    except (ServerUnavailable, PerfdhcpError) as error:
        row.error = str(error)
        log(f"  stopped: {error}")
    return row


def wire_check(bench: Bench, config: Config, workload: Workload, rate: int, seconds: float, label: str,
               shared_macs: bool, log) -> WireCheck:
    check = WireCheck(label, rate, config.daemons)
    log(f"== duplicate check on the wire: {label} at {rate:,}/s per daemon")
    directory = bench.workdir / "wire" / f"{config.key}-{workload.kind}{'-shared' if shared_macs else ''}"
    try:
        step = bench.step(config, workload, rate, seconds, capture=directory, shared_macs=shared_macs)
    except (ServerUnavailable, PerfdhcpError) as error:
        check.error = str(error)
        return check
    check.step = step
    check.tap_drops = [drops for _, drops in step.captures.values()]
    run_lease_check({name: path for name, (path, _) in step.captures.items()}, check)
    log(f"    lease_check: {check.acks:,} ACKs, {check.macs:,} MACs, duplicates {check.duplicates}, "
        f"changed {check.changed}, tap drops {check.tap_drops}{'; ' + check.error if check.error else ''}")
    return check


def median_rate(row: Row) -> Optional[int]:
    rates = [best.rate for best in row.bests if best is not None]
    return int(statistics.median_low(rates)) if rates else None


def row_name(workload: Workload, config: Config) -> str:
    """How --only names a row: "<workload>:<configuration key>", e.g. "renew:pg2"."""
    return f"{workload.kind}:{config.key}"


def run_pools(topology: PoolsTopology, workdir: Path, pg_dir: Path, binary: str, server_cpu: int, client_cpu: int,
              pg_cpus: str, plan: PoolsPlan, log, only: Sequence[str] = ()) -> PoolsResult:
    """Every row, or those whose row_name contains one of `only`'s fragments (a profile of one
    row, for instance); the duplicate checks follow the rows that ran."""
    result = PoolsResult()
    postgres = PostgreSQL(pg_dir, topology, pg_cpus, log)
    log(f"== PostgreSQL: initdb and start in {topology.pg_ns} ({pg_dir})")
    postgres.start()
    try:
        result.postgres = {"version": postgres.version, **postgres.settings()}
        bench = Bench(topology, workdir, binary, server_cpu, client_cpu, postgres, log)
        for workload, configs in ((ALLOCATE, (SQLITE_1, POSTGRES_1, POSTGRES_2)), (RENEW, (SQLITE_1, POSTGRES_1, POSTGRES_2)),
                                  (STATIC, (STATIC_SQLITE, STATIC_POSTGRES))):
            for config in configs:
                if only and not any(fragment in row_name(workload, config) for fragment in only):
                    continue
                result.rows.append(measure_row(bench, config, workload, plan.searches[(workload.kind, config.key)], log))
        static_rows = [row for row in result.rows if row.workload == "static"]
        if static_rows:
            log(f"== static clients: CPU at {STATIC_CPU_RATE:,}/s, SQLite and PostgreSQL store alternating")
        for pair in range(plan.static_cpu_pairs if static_rows else 0):
            for row in static_rows:
                if row.error:
                    continue
                try:
                    row.fixed.append(bench.step(row.config, STATIC, STATIC_CPU_RATE, plan.static_cpu_seconds, pair + 1))
                except (ServerUnavailable, PerfdhcpError) as error:
                    row.error = str(error)
        # Zero duplicates, judged by what the daemons put on the wire (lease_check.py), at each
        # configuration's median clean rate: every allocation row, and renewals by two daemons;
        # with two daemons allocating, every MAC goes to both at once.
        checked = [row for row in result.rows if row.workload == "allocate"] + \
                  [row for row in result.rows if row.workload == "renew" and row.config.daemons > 1]
        for row in checked:
            rate = median_rate(row)
            if rate is None:
                continue
            workload = ALLOCATE if row.workload == "allocate" else RENEW
            shared = row.config.daemons > 1 and row.workload == "allocate"
            label = f"{row.workload}: {row.config.label}" + (", every MAC to both daemons" if shared else "")
            result.wire.append(wire_check(bench, row.config, workload, rate, plan.wire_seconds, label, shared, log))
    finally:
        postgres.stop()
    return result
