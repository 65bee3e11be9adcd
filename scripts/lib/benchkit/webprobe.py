"""Dashboard latency probe (issue #7): GET / repeatedly for a while, print p50/p99 as JSON.

Run inside the client namespace while perfdhcp loads the server. Each request opens its own
connection, as a browser polling the dashboard would; requests are paced (20 per second) so
the probe measures the web path under DHCP load rather than adding load of its own.
"""
import http.client
import json
import sys
import time
from urllib.parse import urlsplit

PACE_SECONDS = 0.05


def get_once(host: str, port: int, path: str) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status >= 500:
            raise OSError(f"HTTP {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000.0


def main(url: str, seconds: float) -> dict:
    parts = urlsplit(url)
    host, port, path = parts.hostname, parts.port or 80, parts.path or "/"
    try:
        get_once(host, port, path)
    except OSError as error:
        return {"available": False, "reason": f"no dashboard at {url}: {error}"}
    samples, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            samples.append(get_once(host, port, path))
        except OSError:
            failures += 1
        time.sleep(PACE_SECONDS)
    samples.sort()
    def pick(fraction):
        return samples[min(len(samples) - 1, int(fraction * len(samples)))] if samples else None
    return {"available": True, "requests": len(samples), "failures": failures,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": samples[-1] if samples else None}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 -m benchkit.webprobe URL SECONDS")
    print(json.dumps(main(sys.argv[1], float(sys.argv[2]))))
