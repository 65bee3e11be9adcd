"""The Markdown report: one table of figures, one of ratios, and the search steps."""
from .measure import ServerResult

NA = "not available"


def _number(value, digits=0, suffix=""):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def _web(result: ServerResult) -> str:
    if not result.web:
        return "–"
    if not result.web.get("available"):
        return "skipped"
    return f"{_number(result.web.get('p99_ms'), 2)} ms"


def _wire(result: ServerResult, attribute: str) -> str:
    latency = result.wire_latency
    if latency is None or latency.error:
        return "–"
    return _number(getattr(latency, attribute), 3)


def figures_table(results: list) -> list:
    lines = [
        "| Server | Clean rate (/s, <0.1 % drops) | Flood (exchanges/s) | Flood drops | p50 (ms) | p99 (ms) "
        "| p99 FIFO (ms) | Wire p50 (ms) | Wire p99 (ms) | CPU µs / exchange | Peak RSS (MB) | Dashboard p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if not r.available:
            lines.append(f"| {r.name} | {NA} | {NA} | – | – | – | – | – | – | – | – | – |")
            continue
        clean = _number(r.clean_rate) if r.clean_confirmed else "none confirmed"
        drops = "–" if r.flood_drop_ratio is None else f"{r.flood_drop_ratio * 100:.2f} %"
        rss = None if r.rss_peak_kib is None else r.rss_peak_kib / 1024
        lines.append(f"| {r.name} | {clean} | {_number(r.flood_rate)} | {drops} | {_number(r.p50_ms, 3)} "
                     f"| {_number(r.p99_ms, 3)} | {_number(r.p99_fifo_ms, 3)} | {_wire(r, 'p50_ms')} | {_wire(r, 'p99_ms')} | {_number(r.cpu_us, 1)} | {_number(rss, 1)} | {_web(r)} |")
    return lines


def paced_table(results: list) -> list:
    """CPU per exchange at each paced rate, and what the floor responder spent at the same rate."""
    rates = sorted({rate for r in results if r.available for rate in r.paced})
    if not rates:
        return []
    floor = next((r for r in results if r.family == "floor" and r.available), None)
    header = "| Server | " + " | ".join(f"{rate:,}/s: CPU µs (x floor; user space), drops" for rate in rates) + " |"
    lines = [header, "|---|" + "---:|" * len(rates)]
    for r in results:
        if not r.available or not r.paced:
            continue
        cells = []
        for rate in rates:
            paced = r.paced.get(rate)
            if paced is None:
                cells.append("–")
                continue
            base = floor.paced.get(rate) if floor is not None else None
            notes = []
            if base and base.cpu_us and paced.cpu_us and r is not floor:
                notes.append(f"{paced.cpu_us / base.cpu_us:.2f}x")
            if paced.user_us is not None:
                notes.append(f"user {paced.user_us:.1f}")
            detail = f" ({'; '.join(notes)})" if notes else ""
            cells.append(f"{_number(paced.cpu_us, 1)}{detail}, {paced.drop_ratio * 100:.2f} %")
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    return lines


def recovery_table(results: list) -> list:
    measured = [r for r in results if r.available and r.recovered_drop_ratio is not None]
    if not measured:
        return []
    lines = ["| Server | Overload offered (/s) | Drops during it | Then at the clean rate, drops after the first seconds |",
             "|---|---:|---:|---:|"]
    for r in measured:
        lines.append(f"| {r.name} | {_number(2 * r.clean_rate)} | {r.overload_drop_ratio * 100:.2f} % "
                     f"| {r.recovered_drop_ratio * 100:.3f} % |")
    return lines


def _ratio(ours, peer, digits=2):
    if ours is None or peer is None or peer == 0:
        return "–"
    return f"{ours / peer:.{digits}f}x"


def ratios_table(results: list) -> list:
    ours = [r for r in results if r.family == "ours" and r.available]
    peers = [r for r in results if r.family not in ("ours", "floor") and r.available]
    if not peers or not any(r.family == "ours" for r in results):
        return []
    if not ours:
        return ["Not available: none of our configurations was measured (see the notes)."]
    header = "| Ours | vs | Clean rate | Flood rate | CPU µs / exchange | p99 | Peak RSS |"
    lines = [header, "|---|---|---:|---:|---:|---:|---:|"]
    for mine in ours:
        for peer in peers:
            mine_clean = mine.clean_rate if mine.clean_confirmed else None
            peer_clean = peer.clean_rate if peer.clean_confirmed else None
            lines.append(f"| {mine.name} | {peer.name} | {_ratio(mine_clean, peer_clean)} "
                         f"| {_ratio(mine.flood_rate, peer.flood_rate)} | {_ratio(mine.cpu_us, peer.cpu_us)} "
                         f"| {_ratio(mine.p99_ms, peer.p99_ms)} | {_ratio(mine.rss_peak_kib, peer.rss_peak_kib)} |")
    return lines


def floor_table(results: list) -> list:
    """CPU per exchange above the floor responder's: the part each server's own code costs."""
    floor = next((r for r in results if r.family == "floor" and r.available and r.cpu_us), None)
    servers = [r for r in results if r.family != "floor" and r.available and r.cpu_us is not None]
    if floor is None or not servers:
        return []
    lines = [f"The floor responder (no lookup, no script, no log; the same system calls per packet) spent "
             f"{floor.cpu_us:.1f} µs per exchange: what this machine's kernel charges any server here.", "",
             "| Server | CPU µs / exchange | Above the floor (µs) | Floor's share | Clean rate (x floor's) |",
             "|---|---:|---:|---:|---:|"]
    floor_clean = floor.clean_rate if floor.clean_confirmed else None
    for r in servers:
        clean = _ratio(r.clean_rate if r.clean_confirmed else None, floor_clean)
        lines.append(f"| {r.name} | {r.cpu_us:.1f} | {r.cpu_us - floor.cpu_us:.1f} | {floor.cpu_us / r.cpu_us * 100:.0f} % | {clean} |")
    return lines


def _wire_note(r: ServerResult) -> str:
    return f"; wire: {r.wire_latency.summary()}" if r.wire_latency is not None else ""


def render(results: list, context: dict) -> str:
    out = [f"# staticdhcpd benchmark, {context['date']}", ""]
    out += [f"- {key}: {value}" for key, value in context["settings"].items()]
    out += ["", "## Figures", ""] + figures_table(results)
    ratios = ratios_table(results)
    if ratios:
        out += ["", "## Ratios (ours / peer; above 1x is better for rates, below 1x for CPU, p99, RSS)", ""] + ratios
    paced = paced_table(results)
    if paced:
        out += ["", "## Cost at paced rates (a fresh server per rate)", "",
                "\"user\": the µs of each exchange's CPU spent in the server's own code and libraries "
                "(utime, sampled at each clock tick); the rest is the kernel's.", ""] + paced
    recovery = recovery_table(results)
    if recovery:
        out += ["", "## Overload recovery (twice the clean rate, then the clean rate, one server, no pause)", ""] + recovery
    above_floor = floor_table(results)
    if above_floor:
        out += ["", "## CPU above the floor", ""] + above_floor
    out += ["", "## Notes", ""]
    for r in results:
        if not r.available:
            out.append(f"- {r.name}: not available ({r.reason})")
            continue
        steps = ", ".join(f"{s.offered}:{s.verdict}" for s in r.steps)
        out.append(f"- {r.name}: steps {steps}; flood offered {r.flood_offered}/s; latency at {r.latency_rate}/s from {r.latency_samples} exchanges"
                   + (f"; dashboard: {r.web.get('reason') or r.web}" if r.web and not r.web.get("available") else "")
                   + _wire_note(r)
                   + (f"; {r.reason}" if r.reason else ""))
    return "\n".join(out) + "\n"
