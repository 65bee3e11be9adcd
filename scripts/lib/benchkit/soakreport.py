"""The soak's Markdown report (figures, verdict, RSS per minute) and its CSV of every sample."""
from .soak import (RSS_LIMIT_MB, SAMPLE_SECONDS, SLOPE_LIMIT_MB_PER_MINUTE, SoakResult, verdict)


def _mb(kib) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f}"


def _slope(value) -> str:
    return "–" if value is None else f"{value:+.3f}"


def figures_table(result: SoakResult) -> list:
    whole, second_half = result.slopes()
    exchanges = f"{result.completed:,}" if result.completed or not result.failure else "–"
    drops = f"{result.drops:,} ({result.drop_ratio * 100:.3f} %)" if result.initiated else "–"
    return [
        "| Idle before (MB) | Peak (MB) | End of load (MB) | Idle after (MB) | Slope, load (MB/min) "
        "| Slope, 2nd half (MB/min) | Exchanges | Drops |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {_mb(result.idle_before_kib)} | {_mb(result.peak_kib)} | {_mb(result.end_kib)} "
        f"| {_mb(result.idle_after_kib)} | {_slope(whole)} | {_slope(second_half)} | {exchanges} | {drops} |",
    ]


def breakdown_lines(result: SoakResult) -> list:
    """Where the RSS is at each moment: anonymous memory (heap, stacks) against mapped files."""
    if not result.moments:
        return ["No readings were taken."]
    lines = ["| Moment | VmRSS | RssAnon (heap, stacks) | RssFile (executable, libraries) | RssShmem |",
             "|---|---:|---:|---:|---:|"]
    for moment, reading in result.moments.items():
        lines.append(f"| {moment} | {_mb(reading.get('VmRSS'))} | {_mb(reading.get('RssAnon'))} "
                     f"| {_mb(reading.get('RssFile'))} | {_mb(reading.get('RssShmem'))} |")
    whole, second_half = result.slopes("anon_kib")
    lines += ["", f"RssAnon slope: {_slope(whole)} MB/min over the load, {_slope(second_half)} MB/min "
                  "over its second half (a leak grows RssAnon; RssFile is bounded by the files' size)."]
    return lines


def verdict_lines(result: SoakResult) -> list:
    _, sentence, caveats = verdict(result)
    return [f"Verdict: {sentence}"] + [f"- note: {caveat}" for caveat in caveats]


def per_minute_lines(result: SoakResult) -> list:
    """One row per minute of load, every sample of that minute in MB (a compact RSS curve)."""
    if not result.samples:
        return ["No samples were taken."]
    rows = {}
    for sample in result.samples:
        rows.setdefault(int(sample.seconds // 60), []).append(f"{sample.rss_kib / 1024:.1f}")
    lines = [f"| Minute | VmRSS (MB), one value per {SAMPLE_SECONDS:g} s |", "|---:|---|"]
    lines += [f"| {minute} | {' '.join(values)} |" for minute, values in sorted(rows.items())]
    return lines


def _web(result: SoakResult) -> str:
    web = result.web
    if not web:
        return "not probed"
    if not web.get("available"):
        return f"not available ({web.get('reason', 'no answer')})"
    p99 = web.get("p99_ms")
    return (f"{web.get('requests', 0)} GET / answered, {web.get('failures', 0)} failed"
            + (f", p99 {p99:.1f} ms" if p99 is not None else ""))


def render(result: SoakResult, context: dict) -> str:
    out = [f"# staticdhcpd memory soak, {context['date']}", ""]
    out += [f"- {key}: {value}" for key, value in context["settings"].items()]
    out += [
        f"- rate: {result.rate:,} exchanges/s offered ({result.rate_source or 'not chosen'})",
        f"- search steps: {', '.join(result.search_steps)}" if result.search_steps else "- search steps: none",
        f"- sampled peak VmRSS: {_mb(result.sampled_peak_kib)} MB (the Peak column is VmHWM, which "
        f"includes start-up and anything between samples)",
        f"- CPU per exchange over the load: {'–' if result.cpu_us is None else f'{result.cpu_us:.1f} µs'}",
        f"- dashboard (one GET / every 5 s during the load): {_web(result)}",
        f"- target: peak under {RSS_LIMIT_MB:g} MB and second-half slope under "
        f"{SLOPE_LIMIT_MB_PER_MINUTE:g} MB/min",
    ]
    out += ["", "## Figures", ""] + figures_table(result)
    out += ["", "## Verdict", ""] + verdict_lines(result)
    out += ["", "## Where the RSS is (MB)", ""] + breakdown_lines(result)
    out += ["", "## RSS during the load", ""] + per_minute_lines(result)
    return "\n".join(out) + "\n"


def samples_csv(result: SoakResult) -> str:
    return "seconds,vmrss_kib,rssanon_kib,rssfile_kib\n" + "".join(
        f"{s.seconds:.1f},{s.rss_kib},{s.anon_kib},{s.file_kib}\n" for s in result.samples)
