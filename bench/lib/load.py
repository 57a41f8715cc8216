"""The load generators and what their output says: wrk (HTTP/1.1, TLS) at full speed,
h2load for HTTP/2, and h2load at a fixed rate (`--rps` per connection) for latency at
a given load. Each run returns a Run; anything but 2xx answers or socket errors is
kept in `problems`, so no cell passes off errors as speed."""

import re
import subprocess
from dataclasses import dataclass, field


@dataclass
class Run:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    problems: list = field(default_factory=list)


def _taskset(cpus, argv):
    return ["taskset", "-c", cpus] + argv


def _ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(cpus, url, connections, seconds, headers=(), timeout=None):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for h in headers:
        argv += ["-H", h]
    out = subprocess.run(
        _taskset(cpus, argv + [url]), capture_output=True, text=True, timeout=seconds + 30
    ).stdout
    run = Run()
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    if not m:
        run.problems.append("wrk printed no total: " + out.strip()[-300:])
        return run
    run.requests = int(m.group(1))
    run.seconds = _ms(m.group(2), m.group(3)) / 1000
    run.rps = run.requests / run.seconds
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m:
            setattr(run, attr, _ms(m.group(1), m.group(2)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        run.problems.append(f"{m.group(1)} non-2xx answers")
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        run.problems.append("socket errors: " + m.group(1))
    return run


def h2load(cpus, url, clients, streams, seconds, headers=(), h1=False, rps_per_client=None, log=None):
    argv = ["h2load", f"-c{clients}", f"-m{streams}", f"-D{seconds}", "-t1"]
    if h1:
        argv.append("--h1")
    if rps_per_client:
        argv.append(f"--rps={rps_per_client:.3f}")
    for h in headers:
        argv += ["-H", h]
    if log:
        argv.append(f"--log-file={log}")
    out = subprocess.run(
        _taskset(cpus, argv + [url]), capture_output=True, text=True, timeout=seconds + 30
    ).stdout
    run = Run()
    m = re.search(r"finished in ([\d.]+)(\w+), ([\d.]+) req/s", out)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    if not m or not done:
        run.problems.append("h2load printed no totals: " + out.strip()[-300:])
        return run
    run.seconds = _ms(m.group(1), m.group(2)) / 1000
    run.requests = int(done.group(1))
    run.rps = run.requests / run.seconds
    failed = sum(int(done.group(i)) for i in (3, 4, 5))
    if failed:
        run.problems.append(f"{failed} requests failed, errored or timed out")
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if codes and sum(int(codes.group(i)) for i in (2, 3, 4)):
        run.problems.append("non-2xx answers: " + codes.group(0))
    if log:
        latencies = []
        with open(log) as f:
            for line in f:
                cols = line.split("\t")
                if len(cols) >= 3 and cols[1] != "-1":
                    latencies.append(int(cols[2]))
        latencies.sort()
        if latencies:
            run.p50_ms = latencies[len(latencies) // 2] / 1000
            run.p99_ms = latencies[min(len(latencies) - 1, (len(latencies) * 99) // 100)] / 1000
    return run
