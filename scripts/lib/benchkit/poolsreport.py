"""The pools report (scripts/bench --pools): medians with their spread over the runs, the targets,
the wire check, and every step. See pools.py for what is measured."""
import re
from typing import Optional

from .pools import STATIC_CPU_RATE, STATIC_DROP_LIMIT, PoolsResult, Row, Step, median_spread

ALLOCATION_TARGET = 2000
RENEWAL_TARGET = 5000


def spread(values: list, digits: int = 0) -> str:
    """'median (min-max)', or the one value, or '–'."""
    found = median_spread(values)
    if found is None:
        return "–"
    middle, low, high = found
    present = [value for value in values if value is not None]
    if len(present) == 1:
        return f"{middle:,.{digits}f}"
    return f"{middle:,.{digits}f} ({low:,.{digits}f}-{high:,.{digits}f})"


def best_steps(row: Row) -> list:
    return [best for best in row.bests if best is not None]


def clean_rates(row: Row) -> list:
    """Each run's highest clean rate, summed over the daemons (None for a run without one)."""
    return [None if best is None else best.offered_total for best in row.bests]


def per_exchange(step: Step, counter: str) -> Optional[float]:
    completed = sum(load.completed for load in step.loads)
    if not step.postgres or not completed:
        return None
    return step.postgres[counter] / completed


def rate_cell(row: Row) -> str:
    if row.error and not best_steps(row):
        return "not measured"
    rates = clean_rates(row)
    text = spread(rates)
    missing = sum(1 for rate in rates if rate is None)
    return text + (f", {missing} run(s) without a clean step" if missing else "")


def pools_table(rows: list) -> list:
    lines = ["| Configuration | Clean rate (/s, ≤ 1 % lost) | CPU µs / exchange, daemon A | daemon B | PostgreSQL "
             "| CPU busy at that rate, A / B / PostgreSQL (% of one CPU) "
             "| Conflicts retried / 1,000 exchanges | Renewal p50 (ms) | p99 (ms) | Duplicates, inconsistent (store) |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---|"]
    for row in rows:
        bests = best_steps(row)
        cpu = {name: spread([step.cpu_us.get(name) for step in bests], 1) for name in ("A", "B", "PostgreSQL")}
        checked = [step.store for step in row.steps if step.store is not None and not step.store.error]
        duplicates = sum(check.duplicates for check in checked)
        mismatched = sum(check.mismatched for check in checked)
        moved = sum(check.moved for check in checked)
        store = (f"{duplicates}, {mismatched} over {len(checked)} steps" + (f" ({moved} moved)" if moved else "")
                 if checked else "–")
        def latency(attribute):
            if row.workload != "renew":
                return "–"
            return spread([max((getattr(load, attribute) for load in step.loads if getattr(load, attribute) is not None),
                               default=None) for step in bests], 2)
        conflicts = spread([None if per_exchange(step, "conflicts") is None else per_exchange(step, "conflicts") * 1000
                            for step in bests], 1)
        busy = " / ".join(spread([step.cpu_share(name) for step in bests]) for name in ("A", "B", "PostgreSQL"))
        lines.append(f"| {row.config.label} | {rate_cell(row)} | {cpu['A']} | {cpu['B']} | {cpu['PostgreSQL']} "
                     f"| {busy} | {conflicts} | {latency('p50_ms')} | {latency('p99_ms')} | {store} |")
    return lines


def static_table(rows: list) -> list:
    lines = [f"| Store of the daemon (hook on, store untouched) | Clean rate (/s, < {STATIC_DROP_LIMIT * 100:g} % lost) "
             "| CPU µs / exchange at the clean rate "
             f"| CPU µs / exchange at {STATIC_CPU_RATE:,}/s | Lost at {STATIC_CPU_RATE:,}/s | PostgreSQL CPU µs / exchange at {STATIC_CPU_RATE:,}/s |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        bests = best_steps(row)
        lost = spread([step.drop_ratio * 100 for step in row.fixed], 3)
        lines.append(f"| {row.config.label} | {rate_cell(row)} | {spread([step.cpu_us.get('A') for step in bests], 1)} "
                     f"| {spread([step.cpu_us.get('A') for step in row.fixed], 1)} | {lost}{' %' if row.fixed else ''} "
                     f"| {spread([step.cpu_us.get('PostgreSQL') for step in row.fixed], 2)} |")
    return lines


def wire_table(checks: list) -> list:
    lines = ["| Run | Rate per daemon (/s) | Lost | ACKs | MACs | Addresses | MACs ACKed by both daemons | "
             "Duplicate addresses | MACs given two addresses | Frames the tap dropped | Verdict |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for check in checks:
        lost = f"{check.step.drop_ratio * 100:.2f} %" if check.step else "–"
        verdict = "pass" if check.passed else ("error: " + check.error if check.error else "FAIL")
        lines.append(f"| {check.label} | {check.rate:,} | {lost} | {check.acks:,} | {check.macs:,} | {check.addresses:,} "
                     f"| {check.shared:,} | {_or_dash(check.duplicates)} | {_or_dash(check.changed)} "
                     f"| {', '.join(str(d) for d in check.tap_drops) or '–'} | {verdict} |")
    return lines


def _or_dash(value) -> str:
    return "–" if value is None else str(value)


def find_row(result: PoolsResult, workload: str, key: str) -> Optional[Row]:
    return next((row for row in result.rows if row.workload == workload and row.config.key == key), None)


def _overlap(first: list, second: list) -> Optional[bool]:
    a, b = median_spread(first), median_spread(second)
    if a is None or b is None:
        return None
    return not (a[2] < b[1] or b[2] < a[1])


def target_lines(result: PoolsResult) -> list:
    lines = []
    for workload, target, what in (("allocate", ALLOCATION_TARGET, "new allocations/s"),
                                   ("renew", RENEWAL_TARGET, "renewals/s")):
        row = find_row(result, workload, "pg2")
        found = median_spread(clean_rates(row)) if row else None
        if found is None:
            lines.append(f"- {target:,} {what} across two daemons on one PostgreSQL: not measured")
            continue
        middle, low, high = found
        met = "met" if middle >= target else "NOT met"
        lines.append(f"- {target:,} {what} across two daemons on one PostgreSQL: **{met}** (median {middle:,.0f}/s, "
                     f"runs {low:,.0f}-{high:,.0f}/s)")
    pool_rows = [row for row in result.rows if row.workload in ("allocate", "renew")]
    checked = [step.store for row in pool_rows for step in row.steps if step.store is not None]
    failed = [check for check in checked if check.error]
    duplicates = sum(check.duplicates + check.mismatched + check.moved for check in checked if not check.error)
    wire_ok = all(check.passed for check in result.wire) and bool(result.wire)
    zero = duplicates == 0 and not failed and wire_ok
    # A run of some rows only (--only) may check no capture: that is not judged, not a failure.
    verdict = ("met" if zero else "NOT met") if result.wire or duplicates or failed else "not judged (no capture checked)"
    lines.append(f"- zero duplicates: **{verdict}** (store after each of {len(checked)} steps: "
                 f"{duplicates} duplicate, inconsistent or moved leases"
                 + (f", {len(failed)} checks failed" if failed else "")
                 + f"; on the wire: {sum(1 for c in result.wire if c.passed)} of {len(result.wire)} lease_check runs pass)")
    sqlite, postgres = find_row(result, "static", "static-sqlite"), find_row(result, "static", "static-pg")
    if sqlite and postgres and min(len(sqlite.fixed), len(postgres.fixed)) < 2:
        lines.append("- static clients unchanged within noise: not judged (fewer than two runs at "
                     f"{STATIC_CPU_RATE:,}/s on a side: no spread to compare)")
    elif sqlite and postgres:
        cpu_overlap = _overlap([s.cpu_us.get("A") for s in sqlite.fixed], [s.cpu_us.get("A") for s in postgres.fixed])
        rate_overlap = _overlap(clean_rates(sqlite), clean_rates(postgres))
        cpu_s = median_spread([s.cpu_us.get("A") for s in sqlite.fixed])
        cpu_p = median_spread([s.cpu_us.get("A") for s in postgres.fixed])
        difference = f"{(cpu_p[0] - cpu_s[0]) / cpu_s[0] * 100:+.1f} %" if cpu_s and cpu_p else "–"
        unchanged = cpu_overlap and rate_overlap
        lines.append(f"- static clients unchanged within noise: **{'met' if unchanged else 'NOT met'}** (CPU per exchange "
                     f"at {STATIC_CPU_RATE:,}/s with the PostgreSQL store {difference} against SQLite, runs "
                     f"{'overlap' if cpu_overlap else 'do not overlap'}; clean rates "
                     f"{'overlap' if rate_overlap else 'do not overlap'})")
    return lines


def _step_line(step: Step) -> str:
    lost = "/".join(f"{load.drop_ratio * 100:.2f}" for load in step.loads)
    return f"{step.rate:,}{'x' + str(len(step.loads)) if len(step.loads) > 1 else ''}:{step.verdict} ({lost} % lost)"


def log_summary(rows: list) -> list:
    """The daemons' WARNING/ERROR/CRITICAL lines, by configuration, digits folded so repeats group."""
    lines = []
    for row in rows:
        counted = {}
        for step in row.steps + row.fixed:
            for line in step.log_lines:
                found = re.search(r"\b(WARNING|ERROR|CRITICAL)\b.*", line)
                key = re.sub(r"\d+", "N", found.group(0) if found else line)[:160]
                counted[key] = counted.get(key, 0) + 1
        if counted:
            top = sorted(counted.items(), key=lambda item: -item[1])[:5]
            lines.append(f"- {row.workload}, {row.config.label}: " + "; ".join(f"{count} x `{text}`" for text, count in top))
    return lines or ["- none: no daemon wrote a WARNING, ERROR or CRITICAL line in any step"]


def render(result: PoolsResult, context: dict) -> str:
    out = [f"# staticdhcpd pools benchmark, {context['date']}", ""]
    out += [f"- {key}: {value}" for key, value in context["settings"].items()]
    out += ["", "## Targets", ""] + target_lines(result)
    pools = [row for row in result.rows if row.workload in ("allocate", "renew")]
    out += ["", "## New allocations (DISCOVER-OFFER-REQUEST-ACK for MACs without a lease)", "",
            "Figures are the median of the runs, with the lowest and highest run in brackets. Rates of two daemons "
            "are their sum. CPU is per completed exchange of that daemon (PostgreSQL: per exchange of all daemons).", ""]
    out += pools_table([row for row in pools if row.workload == "allocate"])
    out += ["", "## Renewals (REQUEST-ACK in RENEWING state for stored leases)", ""]
    out += pools_table([row for row in pools if row.workload == "renew"])
    statics = [row for row in result.rows if row.workload == "static"]
    if statics:
        out += ["", "## Static clients: SQLite + Lua hook with the store in SQLite or PostgreSQL", ""] + static_table(statics)
    if result.wire:
        out += ["", "## Duplicates on the wire (Tests/e2e/lease_check.py over captures of the daemons' replies)", ""]
        out += wire_table(result.wire)
    out += ["", "## Daemon log lines (WARNING and above)", ""] + log_summary(result.rows)
    out += ["", "## Steps", ""]
    for row in result.rows:
        runs = {}
        for step in row.steps:
            runs.setdefault(step.run, []).append(_step_line(step))
        text = "; ".join(f"run {run}: " + ", ".join(steps) for run, steps in sorted(runs.items()))
        if row.fixed:
            text += f"; at {STATIC_CPU_RATE:,}/s: " + ", ".join(
                f"{step.cpu_us.get('A') or 0:.1f} µs ({step.drop_ratio * 100:.3f} % lost)" for step in row.fixed)
        out.append(f"- {row.workload}, {row.config.label}: {text or 'no step'}" + (f"; stopped: {row.error}" if row.error else ""))
    if result.notes:
        out += ["", "## Notes", ""] + [f"- {note}" for note in result.notes]
    return "\n".join(out) + "\n"
