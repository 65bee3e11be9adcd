"""The million-reservations report (scripts/bench --million): medians with their spread over the
rounds, each size beside the smallest, and the targets of issue #22 (million.py says what is measured)."""
from typing import Optional

from .million import (CPU_TARGET_RATIO, IMPORT_TARGET_SECONDS, RSS_TARGET_MB, STARTUP_TARGET_SECONDS, Cell,
                      MillionResult)
from .pools import median_spread
from .poolsreport import spread


def _mb(values: list) -> list:
    return [None if value is None else value / 1024 for value in values]


def _peaks(cell: Cell) -> str:
    """Peak RSS at each rate: '1,000/s 24.4 (24.0-24.7), ...'."""
    return ", ".join(f"{rate:,}/s {spread(_mb(values), 1)}" for rate, values in sorted(cell.peak_rss_kib.items())) or "–"


def lifecycle_table(result: MillionResult) -> list:
    lines = ["| Database | Reservations | Load (s) | Importer peak RSS (MB) | Start-up (s) | Reload (s) "
             "| RSS after start-up (MB) | RSS after reload (MB) | Peak RSS under load (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for cell in result.cells:
        load = cell.load
        lines.append(
            f"| {cell.engine} | {cell.size:,} | {'–' if load is None else f'{load.seconds:.1f}'} "
            f"| {'–' if load is None or load.peak_rss_kib is None else f'{load.peak_rss_kib / 1024:.0f}'} "
            f"| {spread(cell.startup_s, 3)} | {spread(cell.reload_s, 4)} | {spread(_mb(cell.rss_started_kib), 1)} "
            f"| {spread(_mb(cell.rss_reloaded_kib), 1)} | {_peaks(cell)} |")
    return lines


def cpu_table(result: MillionResult, rates: tuple) -> list:
    header = "| Database | Reservations | " + " | ".join(f"{rate:,}/s: µs (drops)" for rate in rates) + " |"
    lines = [header, "|---|---:|" + "---:|" * len(rates)]
    for cell in result.cells:
        cells = []
        for rate in rates:
            if rate not in cell.cpu_us:
                cells.append("–")
                continue
            drops = median_spread(cell.drops.get(rate, []))
            own = spread(cell.cpu_us.get(rate, []), 1)
            postgres = cell.postgres_cpu_us.get(rate)
            beside = f" + PostgreSQL {spread(postgres, 1)}" if postgres else ""
            cells.append(f"{own}{beside} ({'–' if drops is None else f'{drops[0] * 100:.2f} %'})")
        lines.append(f"| {cell.engine} | {cell.size:,} | " + " | ".join(cells) + " |")
    return lines


def ratio(large: Cell, small: Cell, rate: int) -> Optional[float]:
    mine, base = large.cpu(rate), small.cpu(rate)
    return None if mine is None or not base else mine / base


def verdicts(result: MillionResult, rates: tuple) -> list:
    """One line per database: the largest size's CPU against the smallest's, and the other targets."""
    lines = []
    for engine in sorted({cell.engine for cell in result.cells}, key=["SQLite", "PostgreSQL"].index):
        mine = [cell for cell in result.cells if cell.engine == engine]
        small, large = min(mine, key=lambda c: c.size), max(mine, key=lambda c: c.size)
        ratios = [(rate, ratio(large, small, rate)) for rate in rates if rate in large.cpu_us or rate in small.cpu_us]
        shown = ", ".join(f"{rate:,}/s {'–' if r is None else f'{r:.2f}x'}" for rate, r in ratios)
        failed = [rate for rate, r in ratios if r is None or r > CPU_TARGET_RATIO]
        lines.append(f"- {engine}: CPU per exchange with {large.size:,} reservations against {small.size:,}: {shown} "
                     f"(target at most {CPU_TARGET_RATIO:.2f}x: {'met' if not failed else 'not met at ' + ', '.join(f'{r:,}/s' for r in failed)}).")
        checks = []
        start = median_spread(large.startup_s)
        reload = median_spread(large.reload_s)
        if start:
            checks.append(f"start-up {start[0]:.3f} s ({'under' if start[2] < STARTUP_TARGET_SECONDS else 'NOT under'} "
                          f"{STARTUP_TARGET_SECONDS:g} s in every round)")
        if reload:
            checks.append(f"reload {reload[0]:.4f} s ({'under' if reload[2] < STARTUP_TARGET_SECONDS else 'NOT under'} "
                          f"{STARTUP_TARGET_SECONDS:g} s in every round)")
        under_load = [value for values in large.peak_rss_kib.values() for value in values]
        peak = max([value for value in under_load + large.rss_reloaded_kib + large.rss_started_kib if value], default=None)
        if peak:
            checks.append(f"largest RSS seen {peak / 1024:.1f} MB ({'under' if peak / 1024 < RSS_TARGET_MB else 'NOT under'} "
                          f"{RSS_TARGET_MB} MB)")
        if large.load and engine == "SQLite":
            checks.append(f"`staticdhcpd db import` {large.load.seconds:.1f} s ({'under' if large.load.seconds < IMPORT_TARGET_SECONDS else 'NOT under'} "
                          f"{IMPORT_TARGET_SECONDS} s)")
        if checks:
            lines.append(f"- {engine} with {large.size:,}: " + "; ".join(checks) + ".")
        lines += [f"- {engine} {cell.size:,}: {note}" for cell in mine for note in cell.notes]
    return lines


def render(result: MillionResult, rates: tuple, context: dict) -> str:
    out = [f"# A million reservations ({context['date']})", "", "## Settings", ""]
    out += [f"- **{key}**: {value}" for key, value in context["settings"].items()]
    out += ["", "## Verdict", ""] + verdicts(result, rates)
    out += ["", "## CPU per exchange (median of the rounds, range in brackets; loss in brackets after)", ""]
    out += cpu_table(result, rates)
    out += ["", "## Loading, start-up, reload, memory", ""] + lifecycle_table(result)
    return "\n".join(out) + "\n"
