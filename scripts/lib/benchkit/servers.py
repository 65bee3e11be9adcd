"""The servers under test: how each is configured, started, watched and stopped.

Every server gets the same 10,000 reservations (reservations.py), listens on the server
address inside the server namespace, and is pinned to one CPU with taskset. 'ip netns exec'
and 'taskset' both exec, so the child's PID is the server's own PID, which /proc is read from.
"""
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import reservations as rsv
from .topology import Topology


FLOOR_SOURCE = Path(__file__).with_name("floor_responder.c")


class ServerUnavailable(RuntimeError):
    """The server could not be prepared or did not come up; its rows read 'not available'."""


HOOK_LUA = """
function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
  packet.meta.seen = (packet.meta.seen or 0) + 1
  packet:setOption("renewal_time_value", 1800)
  packet:setOption("rebinding_time_value", 3150)
  return true
end
"""


@dataclass
class ServerSpec:
    """One row of the table. `kind` picks how the configuration is written."""
    name: str
    kind: str                      # "ours", "coredhcp", "kea" or "floor"
    family: str                    # what the ratios compare: "ours", the peer's name, or "floor"
    use_cache: bool = False
    hook: bool = False
    web: bool = False
    binary: str = ""
    extra_env: dict = field(default_factory=dict)
    # Ours: the database in WAL mode (as `staticdhcpd db init` makes it) or, migrated, with the
    # rollback journal a database made by the original's tools has.
    migrated: bool = False
    # Ours: REALTIME_PRIORITY in conf.lua (0: the setting is left out).
    realtime_priority: int = 0

    def prepare(self, workdir: Path, topology: Topology, entries: list) -> list:
        """Writes the configuration into workdir and returns the command line (without netns/taskset)."""
        workdir.mkdir(parents=True, exist_ok=True)
        if self.kind == "ours":
            return self._prepare_ours(workdir, topology, entries)
        if self.kind == "coredhcp":
            return self._prepare_coredhcp(workdir, topology, entries)
        if self.kind == "kea":
            return self._prepare_kea(workdir, topology, entries)
        if self.kind == "floor":
            return self._prepare_floor(workdir, topology)
        raise ValueError(f"unknown server kind {self.kind!r}")

    def _prepare_ours(self, workdir, topology, entries):
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise ServerUnavailable(f"no executable at {self.binary or '(unset)'}")
        database = workdir / "bench.sqlite3"
        if database.exists():
            database.unlink()
        loaded = subprocess.run(["sqlite3", str(database)], input=rsv.sqlite_script(entries, wal=not self.migrated),
                                capture_output=True, text=True)
        if loaded.returncode != 0:
            raise ServerUnavailable(f"sqlite3 could not build the database: {loaded.stderr.strip()}")
        lines = [
            f'DHCP_SERVER_IP = "{topology.server_ip}"',
            "ALLOW_DHCP_RELAYS = true",
            "ENABLE_SUSPEND = false",
            'DATABASE_ENGINE = "SQLite"',
            f'SQLITE_FILE = "{database}"',
            'LOG_CONSOLE_SEVERITY = "WARN"',
            "DAEMON = false",
        ]
        if self.web:
            lines += ["WEB_ENABLED = true", f'WEB_IP = "{topology.server_ip}"', "WEB_PORT = 30880"]
        else:
            lines.append("WEB_ENABLED = false")
        if self.use_cache:
            lines.append("USE_CACHE = true")
        if self.realtime_priority:
            lines.append(f"REALTIME_PRIORITY = {self.realtime_priority}")
        text = "\n".join(lines) + "\n" + (HOOK_LUA if self.hook else "")
        (workdir / "conf.lua").write_text(text)
        return [self.binary, "--config", str(workdir / "conf.lua"), "--verbose"]

    def _prepare_coredhcp(self, workdir, topology, entries):
        leases = workdir / "leases.txt"
        leases.write_text(rsv.coredhcp_leases(entries))
        config = f"""server4:
  listen:
    - "{topology.server_ip}%{topology.server_if}"
  plugins:
    - lease_time: {rsv.LEASE_SECONDS}s
    - server_id: {topology.server_ip}
    - dns: {rsv.DNS}
    - router: {rsv.ROUTER}
    - netmask: {rsv.NETMASK}
    - file: "{leases}"
"""
        (workdir / "coredhcp.yml").write_text(config)
        return ["coredhcp", "-c", str(workdir / "coredhcp.yml"), "-L", "error"]

    def _prepare_kea(self, workdir, topology, entries):
        config = {"Dhcp4": {
            "interfaces-config": {"interfaces": [f"{topology.server_if}/{topology.server_ip}"],
                                  "dhcp-socket-type": "udp"},
            "lease-database": {"type": "memfile", "persist": False},
            # The 250 addresses repeat across the 10,000 clients (see reservations.py).
            "ip-reservations-unique": False,
            "match-client-id": False,
            "host-reservation-identifiers": ["hw-address"],
            "valid-lifetime": rsv.LEASE_SECONDS,
            "subnet4": [{
                "id": 1, "subnet": rsv.SUBNET,
                "relay": {"ip-addresses": [topology.relay_ip]},
                "option-data": [{"name": "routers", "data": rsv.ROUTER},
                                {"name": "domain-name-servers", "data": rsv.DNS}],
                "reservations": rsv.kea_reservations(entries)}],
            # WARN logs only address conflicts and start-up notes: nothing per packet at a clean rate.
            "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                         "output_options": [{"output": str(workdir / "kea.log")}]}],
        }}
        (workdir / "kea.json").write_text(json.dumps(config))
        self.extra_env = {"KEA_PIDFILE_DIR": str(workdir), "KEA_LOCKFILE_DIR": str(workdir)}
        return ["kea-dhcp4", "-c", str(workdir / "kea.json")]

    def _prepare_floor(self, workdir, topology):
        """Compiles floor_responder.c (see its header) with whichever C compiler is installed."""
        compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if compiler is None:
            raise ServerUnavailable("no C compiler (cc, gcc or clang) to build the floor responder")
        binary = workdir / "floor_responder"
        built = subprocess.run([compiler, "-O2", "-o", str(binary), str(FLOOR_SOURCE)],
                               capture_output=True, text=True)
        if built.returncode != 0:
            raise ServerUnavailable(f"the floor responder did not compile: {built.stderr.strip()[:300]}")
        return [str(binary), topology.server_ip]


# SCHED_FIFO priority for the latency run under real-time scheduling: above every ordinary
# thread, low among real-time ones (the kernel's own real-time threads keep precedence).
REALTIME_PRIORITY = 10


def _ticks_per_second() -> int:
    return os.sysconf(os.sysconf_names["SC_CLK_TCK"])


class RunningServer:
    """A started server process, with the /proc readings the bench reports."""

    def __init__(self, spec: ServerSpec, argv: list, topology: Topology, workdir: Path, cpu: int,
                 realtime: bool = False):
        """`realtime`: the whole process under SCHED_FIFO (chrt), so that no ordinary thread on its
        CPU, the kernel's workers included, can hold it off for a time slice."""
        self.spec = spec
        self.topology = topology
        self.log_path = workdir / "server.out"
        env = dict(os.environ, **spec.extra_env)
        policy = ["chrt", "-f", str(REALTIME_PRIORITY)] if realtime else []
        command = topology.in_server(["taskset", "-c", str(cpu)] + policy + argv)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=env, cwd=str(workdir), start_new_session=True)
        self.pid = self.process.pid

    def wait_listening(self, seconds: float = 20.0) -> None:
        """Waits until the server has UDP port 67 open in its namespace, or raises ServerUnavailable."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerUnavailable(f"exited with status {self.process.returncode}: {self.tail()}")
            listing = subprocess.run(self.topology.in_server(["ss", "-Hlun", "sport", "=", ":67"]),
                                     capture_output=True, text=True).stdout
            if listing.strip():
                time.sleep(0.3)
                return
            time.sleep(0.2)
        raise ServerUnavailable(f"did not open UDP port 67 within {seconds:g} s: {self.tail()}")

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:]) or "(no output)"

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (all its threads), in seconds."""
        user, system = self.cpu_split()
        return user + system

    def cpu_split(self) -> tuple:
        """(utime, stime) of the server process (all its threads), in seconds: the time in its
        own code and libraries, and the time the kernel spent on its behalf."""
        with open(f"/proc/{self.pid}/stat") as stat:
            # The command name may contain spaces; fields after the closing parenthesis are fixed.
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / _ticks_per_second(), int(fields[12]) / _ticks_per_second()

    def memory_kib(self, key: str) -> int:
        """A Vm* line of /proc/PID/status (VmHWM: peak RSS, VmRSS: current) in KiB."""
        return self.status_kib((key,))[key]

    def status_kib(self, keys: tuple) -> dict:
        """Several kB lines of /proc/PID/status read at once (e.g. VmRSS, RssAnon, RssFile); 0 if absent."""
        found = dict.fromkeys(keys, 0)
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in found:
                    found[key] = int(value.split()[0])
        return found

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()
