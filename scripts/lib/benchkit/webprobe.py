"""Dashboard latency probe (issue #7): GET / repeatedly for a while, print p50/p99 as JSON.

Run inside the client namespace while perfdhcp loads the server. Each request opens its own
connection, as a browser polling the dashboard would; requests are paced (20 per second by
default; the soak uses one every 5 s, a dashboard left open) so the probe measures the web path
under DHCP load rather than adding load of its own.
"""
import http.client
import json
import os
import subprocess
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


def main(url: str, seconds: float, pace: float = PACE_SECONDS) -> dict:
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
        time.sleep(pace)
    samples.sort()
    def pick(fraction):
        return samples[min(len(samples) - 1, int(fraction * len(samples)))] if samples else None
    return {"available": True, "requests": len(samples), "failures": failures,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": samples[-1] if samples else None}


def launch(topology, url: str, seconds: float, pace: float = PACE_SECONDS) -> subprocess.Popen:
    """Starts the probe in the client namespace; collect() reads its answer."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    argv = topology.in_client(["python3", "-m", "benchkit.webprobe", url, f"{seconds:g}", f"{pace:g}"])
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def collect(probe: subprocess.Popen, timeout: float) -> dict:
    try:
        out, _ = probe.communicate(timeout=timeout)
        return json.loads(out)
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        probe.kill()
        probe.communicate()
        return {"available": False, "reason": f"probe failed: {error}"}


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python3 -m benchkit.webprobe URL SECONDS [PACE_SECONDS]")
    print(json.dumps(main(sys.argv[1], float(sys.argv[2]),
                          float(sys.argv[3]) if len(sys.argv) == 4 else PACE_SECONDS)))
