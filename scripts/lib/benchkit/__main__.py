"""Runs the side-by-side bench inside namespaces that scripts/bench has created.

python3 -m benchkit --server-ns NS --client-ns NS --server-if IF --workdir DIR --out FILE
                    [--quick] [--ours BINARY | --ours-unavailable REASON] [--only NAME,...] ...
                    [--soak [--soak-minutes N] [--soak-reservations N] [--soak-rate N]]
                    [--pools --b-ns NS --b-if IF --pg-ns NS --pg-dir DIR [--pg-cpus LIST]]
                    [--million --pg-dir DIR]
"""
import argparse
import datetime
import os
import signal
import sys
import time
from pathlib import Path

from . import macs
from . import reservations as rsv
from . import million, millionreport, pools, poolsreport, soak, soakreport
from .measure import FLOOD_RATE, Measurer, Plan, ServerResult
from .perfdhcp import Perfdhcp, PerfdhcpError
from .report import render
from .servers import RunningServer, ServerSpec, ServerUnavailable
from .topology import Topology

WEB_URL = "http://198.51.100.1:30880/"


def server_specs(ours_binary: str, web: bool) -> list:
    return [
        ServerSpec("staticdhcpd SQLite", "ours", "ours", binary=ours_binary, web=web),
        ServerSpec("staticdhcpd SQLite + Lua hook", "ours", "ours", binary=ours_binary, hook=True, web=web),
        # The same with the database a site migrating from the original brings (rollback journal),
        # and with the engine thread under SCHED_FIFO (the latency row of docs/BENCHMARK.md).
        ServerSpec("staticdhcpd SQLite migrated (rollback journal) + Lua hook", "ours", "ours", binary=ours_binary,
                   hook=True, web=web, migrated=True),
        ServerSpec("staticdhcpd SQLite + Lua hook, REALTIME_PRIORITY = 10", "ours", "ours", binary=ours_binary,
                   hook=True, web=web, realtime_priority=10),
        ServerSpec("staticdhcpd memory cache", "ours", "ours", binary=ours_binary, use_cache=True, web=web),
        ServerSpec("CoreDHCP file", "coredhcp", "coredhcp"),
        ServerSpec("Kea 2.2 memfile", "kea", "kea"),
        # Not a server: the kernel's share of an exchange here, for reading the CPU column.
        ServerSpec("floor: minimal C responder", "floor", "floor"),
    ]


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return loadavg.read().split()[0]


def log(message: str) -> None:
    print(message, flush=True)


def bench_one(spec, args, topology, plan, entries) -> ServerResult:
    record = ServerResult(spec.name, spec.family)
    workdir = Path(args.workdir) / spec.name.lower().replace(" ", "-").replace("+", "plus")
    if spec.kind == "ours" and args.ours_unavailable:
        record.available, record.reason = False, args.ours_unavailable
        log(f"== {spec.name}: not available ({record.reason})")
        return record
    with_releases = args.releases == "all" or (args.releases == "kea" and spec.kind == "kea")
    perfdhcp = Perfdhcp(topology, args.clients, args.mac_base, with_releases, cpu=args.client_cpu)
    log(f"== {spec.name}")
    try:
        argv = spec.prepare(workdir, topology, entries)
    except ServerUnavailable as error:
        record.available, record.reason = False, str(error)
        log(f"  not available: {error}")
        return record

    def start_server(realtime: bool = False) -> RunningServer:
        server = RunningServer(spec, argv, topology, workdir, args.server_cpu, realtime)
        try:
            server.wait_listening()
        except ServerUnavailable:
            server.stop()
            raise
        return server

    measurer = Measurer(perfdhcp, plan, log, start_server)
    try:
        if not measurer.answers(record):
            raise ServerUnavailable(f"completed no exchange at 50/s (see {workdir}/server.out)")
        measurer.measure(record, WEB_URL if spec.kind == "ours" else "")
    except ServerUnavailable as error:
        record.available, record.reason = False, str(error)
        log(f"  not available: {error}")
    except PerfdhcpError as error:
        record.reason = f"measurement stopped: {error}"
        record.available = bool(record.steps)
        log(f"  {record.reason}")
    if spec.kind == "kea" and (workdir / "kea.log").exists():
        # Address conflicts come from the 250 shared addresses (see reservations.py): count them.
        conflicts = (workdir / "kea.log").read_text(errors="replace").count("ADDRESS_CONFLICT")
        record.reason = (record.reason + "; " if record.reason else "") + \
            f"{conflicts} lease conflicts on shared addresses over all runs"
    return record


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="benchkit")
    parser.add_argument("--server-ns", required=True)
    parser.add_argument("--client-ns", required=True)
    parser.add_argument("--server-if", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ours", default="", help="path of the staticdhcpd executable")
    parser.add_argument("--ours-unavailable", default="", help="why our rows cannot be measured")
    parser.add_argument("--only", default="", help="comma-separated name fragments of servers to run")
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--mac-base", default="02:00:00:01:00:00")
    parser.add_argument("--releases", choices=("all", "kea", "none"), default="all")
    parser.add_argument("--web", action="store_true", help="enable our dashboard and probe GET / under load")
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--client-cpu", type=int, default=0)
    parser.add_argument("--skip-mac-check", action="store_true")
    parser.add_argument("--soak", action="store_true", help="memory soak of our daemon only (soak.py)")
    parser.add_argument("--soak-minutes", type=_positive(float, "--soak-minutes"), default=soak.TARGET_MINUTES)
    parser.add_argument("--soak-reservations", type=_positive(int, "--soak-reservations"), default=100_000)
    parser.add_argument("--soak-rate", type=_positive(int, "--soak-rate"), default=None,
                        help="exchanges/s offered during the soak (default: half a searched clean rate)")
    parser.add_argument("--pools", action="store_true", help="dynamic pools: allocations and renewals (pools.py)")
    parser.add_argument("--b-ns", default="", help="--pools: daemon B's namespace")
    parser.add_argument("--b-if", default="", help="--pools: daemon B's interface")
    parser.add_argument("--pg-ns", default="", help="--pools: PostgreSQL's namespace")
    parser.add_argument("--pg-dir", default="", help="--pools: PostgreSQL's directory (owned by postgres, deleted by scripts/bench)")
    parser.add_argument("--pg-cpus", default="0", help="--pools: CPUs PostgreSQL is pinned to (taskset list)")
    parser.add_argument("--million", action="store_true",
                        help="10,000 against 1,000,000 reservations, SQLite and PostgreSQL (million.py)")
    return parser.parse_args(argv)


def _positive(kind, option):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} needs a {kind.__name__} number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{option} must be above 0, got {text!r}")
        return value
    return parse


def publish(path: str, text: str) -> None:
    """Writes a report where scripts/bench said and prints it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print()
    print(text)
    log(f"written to {out}")


def soak_main(args, topology: Topology, started: float, load_before: str) -> int:
    """The memory soak (issue #8): our daemon only, one long steady load, RSS sampled throughout."""
    try:
        settings = soak.SoakSettings(args.soak_minutes, args.soak_reservations, args.soak_rate)
    except ValueError as error:
        log(f"error: {error}")
        return 2
    if args.ours_unavailable:
        log(f"error: staticdhcpd is not available: {args.ours_unavailable}")
        return 1
    clients = settings.reservations
    mac_summary = "skipped"
    if not args.skip_mac_check:
        log(f"== checking perfdhcp's client MACs on the wire ({clients:,} clients)")
        try:
            mac_summary = macs.verify(topology, Path(args.workdir) / "mac-check", clients, args.mac_base)
        except macs.MacCheckFailed as error:
            log(f"error: {error}")
            return 1
        log("  " + mac_summary)
    with_releases = args.releases == "all"
    perfdhcp = Perfdhcp(topology, clients, args.mac_base, with_releases, cpu=args.client_cpu)
    result = soak.run_soak(settings, args.ours, topology, Path(args.workdir) / "soak", perfdhcp,
                           WEB_URL, args.server_cpu, log)
    context = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "settings": {
        "server": f"{soak.SERVER_NAME} ({args.ours})",
        "reservations": f"{clients:,} MACs ({rsv.mac_for(args.mac_base, 0)} .. "
                        f"{rsv.mac_for(args.mac_base, clients - 1)}), 203.0.113.1-250 repeating (serial = k / 250)",
        "perfdhcp": f"-4 -l {topology.relay_ip} -R {clients} -b mac={args.mac_base} -r RATE "
                    f"-p SEGMENT -d 1 -W 300000 -g single" + (" -F RATE" if with_releases else "")
                    + f" (the {settings.seconds:g} s load as back-to-back runs of at most {soak.SEGMENT_SECONDS} s)",
        "load": f"{settings.minutes:g} min, VmRSS every {soak.SAMPLE_SECONDS:g} s; idle "
                f"{soak.IDLE_BEFORE_SECONDS:g} s before, {soak.IDLE_AFTER_SECONDS:g} s after",
        "pinning": f"server on CPU {args.server_cpu}, perfdhcp on CPU {args.client_cpu} (taskset)",
        "MAC check": mac_summary,
        "wall time": f"{time.monotonic() - started:.0f} s",
        "machine load (1-min average, before / after)": f"{load_before} / {load_average()} on {os.cpu_count()} CPUs",
    }}
    text = soakreport.render(result, context)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".csv").write_text(soakreport.samples_csv(result))
    print()
    print("\n".join(soakreport.figures_table(result)))
    print()
    print("\n".join(soakreport.verdict_lines(result)))
    log(f"written to {out} (every sample: {out.with_suffix('.csv')})")
    return 0 if not result.failure else 1


def pools_main(args, started: float, load_before: str) -> int:
    """Dynamic pools (pools.py): allocations and renewals per second, SQLite against PostgreSQL."""
    if args.ours_unavailable:
        log(f"error: staticdhcpd is not available: {args.ours_unavailable}")
        return 1
    if not (args.b_ns and args.b_if and args.pg_ns and args.pg_dir):
        log("error: --pools needs --b-ns, --b-if, --pg-ns and --pg-dir (scripts/bench makes them)")
        return 2
    topology = pools.PoolsTopology(args.client_ns, pools.make_sites(args.server_ns, args.server_if, args.b_ns, args.b_if),
                                   args.pg_ns)
    plan = pools.PoolsPlan.quick() if args.quick else pools.PoolsPlan.full()
    workdir = Path(args.workdir) / "pools"
    workdir.mkdir(parents=True, exist_ok=True)
    only = [part.strip().lower() for part in args.only.split(",") if part.strip()]
    result = pools.run_pools(topology, workdir, Path(args.pg_dir), args.ours, args.server_cpu, args.client_cpu,
                             args.pg_cpus, plan, log, only)
    settings = {
        "mode": "quick (one run per figure, 2 s steps; rough)" if args.quick else
                f"full: {plan.runs} runs per figure, {plan.step_seconds:g} s steps",
        "server": f"staticdhcpd ({args.ours})",
        "pool": f"dynamism pool '{pools.POOL_NAME}', {pools.POOL_FIRST}-{pools.POOL_LAST} ({pools.POOL_SIZE:,} addresses, "
                f"RFC 2544 benchmark space; only inside DHCP payloads), lease {pools.LEASE_SECONDS} s, relays "
                + ", ".join(site.relay_ip for site in topology.sites),
        "allocations": f"perfdhcp -4 -l RELAY -R {pools.CLIENTS} -b mac={pools.MAC_BASE} (daemon B: mac={pools.MAC_BASE_HALF}, "
                       "the same MACs from the middle) -r RATE -p STEP -d 1 -W 300000 -g single; the store emptied "
                       "before each step, so every exchange is a new lease",
        "renewals": f"renew_load.c: RENEWING REQUESTs (ciaddr, giaddr = relay, no server id) for {pools.RENEW_LEASES:,} "
                    "bound leases written into the store before each step, in turn (daemon B from the middle)",
        "static clients": f"perfdhcp -R {pools.STATIC_CLIENTS} -b mac={pools.MAC_BASE} -F RATE as the main bench, "
                          "10,000 reservations, the bench's loadDHCPPacket hook",
        "steps": f"fresh daemons per step; {pools.WARMUP_SECONDS} s warm-up at {pools.WARMUP_RATE}/s (other MACs; "
                 f"renewals on PostgreSQL: after {pools.WARMUP_SECONDS} s at {pools.WARMUP_TRICKLE}/s) not measured; run 1 doubles from the first rate then bisects"
                 + (" twice, runs 2 and 3 start from the previous result and move by 10 %" if plan.runs > 1 else " once"),
        "clean": f"at most {pools.ALLOCATION_DROP_LIMIT * 100:g} % of exchanges lost for pools "
                 f"(static: under {pools.STATIC_DROP_LIMIT * 100:g} %, as the main bench), and at least 90 % of the due "
                 "requests sent",
        "PostgreSQL": f"{result.postgres.get('version', '?')} in its own namespace on 203.0.113.1, pinned to CPU "
                      f"{args.pg_cpus}; " + ", ".join(f"{k} {v}" for k, v in result.postgres.items() if k != "version")
                      + "; POSTGRESQL_MAXIMUM_CONNECTIONS default (4), SSL off",
        "pinning": f"daemons on CPU {args.server_cpu}, load generators on CPU {args.client_cpu} (taskset)",
        "wall time": f"{time.monotonic() - started:.0f} s",
        "machine load (1-min average, before / after)": f"{load_before} / {load_average()} on {os.cpu_count()} CPUs",
    }
    if only:
        settings["rows"] = "only those matching --only " + ", ".join(only) + ": " + (
            ", ".join(f"{row.workload}:{row.config.key}" for row in result.rows) or "none")
    text = poolsreport.render(result, {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "settings": settings})
    publish(args.out, text)
    return 0


def million_main(args, topology: Topology, started: float, load_before: str) -> int:
    """A million reservations (million.py): SQLite and PostgreSQL, each size beside the smallest."""
    if args.ours_unavailable:
        log(f"error: staticdhcpd is not available: {args.ours_unavailable}")
        return 1
    if not args.pg_dir:
        log("error: --million needs --pg-dir (scripts/bench makes it)")
        return 2
    plan = million.MillionPlan.quick() if args.quick else million.MillionPlan()
    bench = million.MillionBench(topology, Path(args.workdir) / "million", Path(args.pg_dir), args.ours,
                                 args.server_cpu, args.client_cpu, args.mac_base, plan, log)
    result = bench.run()
    settings = {
        "mode": "quick (a smoke test of the harness: small sizes, one round)" if args.quick else
                f"full: {plan.rounds} rounds, {plan.step_seconds:g} s per paced run",
        "server": f"staticdhcpd ({args.ours}), the side-by-side bench's loadDHCPPacket hook, WEB_ENABLED false",
        "reservations": ", ".join(f"{size:,}" for size in plan.sizes) + f" MACs from {args.mac_base} as perfdhcp makes "
                        "them, 203.0.113.1-250 repeating (serial = k / 250), one subnets row per serial",
        "SQLite": "WAL file; the subnets made with sqlite3, the maps by `staticdhcpd db import CSV --file DB` (timed)",
        "PostgreSQL": f"{result.postgres_version}, the original's tables with text columns, in the server's namespace "
                      f"on 127.0.0.1 pinned to CPU {args.client_cpu}; the maps by COPY from the same CSV, then ANALYZE (timed)",
        "perfdhcp": f"-4 -l {topology.relay_ip} -R SIZE -b mac={args.mac_base} -r RATE -p {plan.step_seconds:g} -d 1 "
                    "-W 300000 -g single -F RATE, a fresh daemon per run; RATE "
                    + ", ".join(f"{rate:,}" for rate in plan.rates) + "/s with SQLite, "
                    + ", ".join(f"{rate:,}" for rate in plan.postgres_rates) + "/s with PostgreSQL",
        "pinning": f"daemon on CPU {args.server_cpu}, perfdhcp and PostgreSQL on CPU {args.client_cpu} (taskset)",
        "wall time": f"{time.monotonic() - started:.0f} s",
        "machine load (1-min average, before / after)": f"{load_before} / {load_average()} on {os.cpu_count()} CPUs",
    }
    text = millionreport.render(result, plan.all_rates, {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                                                     "settings": settings})
    publish(args.out, text)
    return 0


def main(argv) -> int:
    args = parse_arguments(argv)
    started = time.monotonic()
    load_before = load_average()
    topology = Topology(args.server_ns, args.client_ns, args.server_if)
    if args.soak:
        return soak_main(args, topology, started, load_before)
    try:
        if args.pools:
            return pools_main(args, started, load_before)
        if args.million:
            return million_main(args, topology, started, load_before)
    except ServerUnavailable as error:  # PostgreSQL or our daemon could not be set up
        log(f"error: {error}")
        return 1
    plan = Plan.quick() if args.quick else Plan()
    entries = rsv.reservations(args.mac_base, args.clients)
    specs = server_specs(args.ours, args.web)
    if args.only:
        wanted = [part.strip().lower() for part in args.only.split(",") if part.strip()]
        specs = [s for s in specs if any(w in s.name.lower() for w in wanted)]
        if not specs:
            log(f"error: --only {args.only!r} matches no server")
            return 2
    mac_summary = "skipped"
    if not args.skip_mac_check:
        log("== checking perfdhcp's client MACs on the wire")
        try:
            mac_summary = macs.verify(topology, Path(args.workdir) / "mac-check", args.clients, args.mac_base)
        except macs.MacCheckFailed as error:
            log(f"error: {error}")
            return 1
        log("  " + mac_summary)
    results = [bench_one(spec, args, topology, plan, entries) for spec in specs]
    settings = {
        "mode": "quick (smoke test of the harness; figures are rough)" if args.quick else "full",
        "perfdhcp": f"-4 -l {topology.relay_ip} -R {args.clients} -b mac={args.mac_base} -d 1 -W 300000 -g single"
                    + (" -F RATE (a RELEASE after each exchange)" if args.releases == "all" else ""),
        "releases": {"all": "every server", "kea": "Kea only", "none": "none"}[args.releases],
        "pinning": f"server on CPU {args.server_cpu}, perfdhcp on CPU {args.client_cpu} (taskset)",
        "durations": f"search steps {plan.step_seconds:g} s, confirm {plan.confirm_seconds:g} s, "
                     f"flood {plan.flood_seconds:g} s at max({FLOOD_RATE}, 2 x clean)/s offered, latency {plan.latency_seconds:g} s, "
                     f"paced rates {', '.join(map(str, plan.paced_rates))}/s for {plan.step_seconds:g} s each, overload recovery "
                     f"{plan.overload_seconds:g} s at 2 x clean then clean ({plan.recovery_seconds:g} s not judged, {plan.recovered_seconds:g} s judged)",
        "reservations": f"{args.clients} MACs, 203.0.113.1-250 repeating (serial = k / 250)",
        "MAC check": mac_summary,
        "wall time": f"{time.monotonic() - started:.0f} s",
        "machine load (1-min average, before / after)": f"{load_before} / {load_average()} on "
            f"{os.cpu_count()} CPUs: other processes share the pinned CPUs, so compare ratios, not absolutes",
    }
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    text = render(results, {"date": date, "settings": settings})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print()
    print(text)
    log(f"written to {args.out}")
    return 0


def exit_on_signal(number, _frame):
    # Turn SIGTERM/SIGINT into SystemExit so every 'finally' stops the server it started.
    raise SystemExit(128 + number)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGINT, exit_on_signal)
    sys.exit(main(sys.argv[1:]))
