"""bench/RESULTS.md: the tables, the machine, the versions, the date, and which of the
targets of issues 5 and 7 this run met."""

import datetime
import os
import platform
import subprocess

from cells import SCENARIOS, STEAL_RETAKE, version

# A scenario whose rps is this close to the loader-and-backend ceiling is bound by them.
BACKEND_BOUND = 0.9

# A round that lost this share of the proxy's or the loader's CPU time to steal is
# named in its note.
STEAL_NOTED = 0.01


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / 1024 / 1024
    return model, memory


def versions(weir):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return [
        ("weir", f"{version([weir, '--version'])} (commit {commit.stdout.strip() or 'unknown'})"),
        ("rustc", version(["rustc", "--version"])),
        ("nginx", version(["nginx", "-v"])),
        ("haproxy", version(["haproxy", "-v"])),
        ("caddy", version(["caddy", "version"])),
        ("wrk", version(["wrk", "-v"])),
        ("h2load", version(["h2load", "--version"])),
        ("openssl", version(["openssl", "version"])),
        ("kernel", platform.release()),
    ]


def ratio(value, base):
    return f"{value / base:.2f}" if base else "–"


def ratios_to(cell, base):
    """The cell's rps, p99, CPU and peak RSS as ratios to `base`'s; "–" each without one."""
    measures = (lambda x: x.run.rps, lambda x: x.run.p99_ms, lambda x: x.cpu_per_10k, lambda x: x.peak_rss_mib)
    return [ratio(measure(cell), measure(base)) if base else "–" for measure in measures]


def per_round(cell, base, measure):
    """The ratio to `base` round by round (rounds of one number ran together), when
    both have more than one round: how much the median hides."""
    if cell is base or len(cell.rounds) < 2 or len(cell.rounds) != len(base.rounds):
        return []
    ratios = " / ".join(ratio(measure(c), measure(b)) for c, b in zip(cell.rounds, base.rounds))
    return [f"rounds: {ratios}"]


def stolen(cell, layout):
    """The steal share of each round, when some round lost enough to matter: such a
    round's rps and p99 measure the hypervisor as much as the proxy. Then the rounds
    taken again for steal, with what the discarded takes lost."""
    rounds = cell.rounds or [cell]
    shares = [r.steal(layout) for r in rounds]
    notes = []
    if max(shares) >= STEAL_NOTED:
        notes.append("CPU stolen by the hypervisor: " + " / ".join(f"{share:.0%}" for share in shares))
    for number, r in enumerate(rounds, 1):
        if r.retaken:
            lost = ", ".join(f"{share:.0%}" for share in r.retaken)
            notes.append(f"round {number} taken again ({lost} stolen before)")
    return notes


def retaken_count(bench):
    """How many measurements of the run were discarded for steal."""
    direct = [bench.fixed_rate_direct] if bench.fixed_rate_direct else []
    measured = [r for c in bench.cells + bench.fixed_rate + direct for r in (c.rounds or [c])] + bench.half_load
    return sum(len(r.retaken) for r in measured)


def write(path, bench, weir, elapsed):
    model, memory = machine()
    workers = bench.layout.workers
    discarded = retaken_count(bench)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"({elapsed / 60:.1f} minutes; every cell measured in {bench.rounds} interleaved "
        f"round{'s' if bench.rounds > 1 else ''} of {bench.seconds} s, each after a {bench.warmup} s warm-up). "
        "Do not edit: run the command again. How it measures: `bench/README.md`.",
        "",
        f"A measurement in which the hypervisor took {STEAL_RETAKE:.0%} or more of the proxy's CPU "
        f"time, or of the loader's, was taken again, up to {bench.retakes} time{'s' if bench.retakes != 1 else ''}, and the "
        f"least-stolen take kept, for every server alike: {discarded} take"
        f"{'s' if discarded != 1 else ''} discarded in this run, each named in its cell's note.",
        "",
        "## Machine",
        "",
        f"- {os.cpu_count()} cores ({model}), {memory:.1f} GiB memory",
        f"- every proxy: {workers} worker{'s' if workers > 1 else ''} on CPU {bench.layout.proxy_cpus}; the loader and the backend "
        f"(nginx, 1 worker, static files) on CPU {bench.layout.load_cpus}",
        "",
        "| tool | version |",
        "|---|---|",
    ]
    lines += [f"| {name} | {v} |" for name, v in versions(weir)]

    lines += [
        "",
        "## Throughput, latency and cost",
        "",
        "Full speed (wrk or h2load as fast as the server answers). p50/p99 are the loader's, "
        "under that saturating load. CPU is the proxy's user+system seconds per 10,000 "
        "requests; busy is its CPU time over wall time per worker (near 100 %: the proxy is "
        "the bound). RSS is the proxy's peak resident memory during the cell (nginx: master "
        "and worker summed). rps, p50, p99 and CPU are each the median of the cell's rounds. "
        "Ratios are to nginx in the same scenario: rps above 1 is faster, the others below 1 "
        "are better. The note gives the rps ratio of each round, and the share of the "
        "proxy's or the loader's CPU time the hypervisor took (steal, the larger of the two) "
        f"in each round when one lost {STEAL_NOTED:.0%} or more: the one stolen from could not "
        "run then, which costs rps and adds latency the proxy did not cause.",
        "",
        "| scenario | server | rps | p50 ms | p99 ms | CPU s/10k | busy | peak RSS MiB "
        "| rps ÷ nginx | p99 ÷ nginx | CPU ÷ nginx | RSS ÷ nginx | note |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    titles = {s.key: s.title for s in SCENARIOS}
    titles["f"] = "(f) custom WASM filter, 128 B"
    for key in "abcdef":
        rows = [c for c in bench.cells if c.scenario == key]
        if not rows:
            continue
        nginx = next((c for c in rows if c.server == "nginx"), None)
        ceiling = bench.ceilings.get("a" if key in "ef" else key)
        for c in sorted(rows, key=lambda c: ["weir", "nginx", "haproxy", "caddy"].index(c.server)):
            notes = list(c.run.problems)
            if ceiling and c.run.rps >= BACKEND_BOUND * ceiling.run.rps:
                notes.append(f"possibly backend-bound ({c.run.rps / ceiling.run.rps:.0%} of the ceiling)")
            # (f) has no nginx cell of its own: its ratios are to nginx's (a), if (a) ran.
            base = nginx or next((x for x in bench.cells if x.scenario == "a" and x.server == "nginx"), None)
            server = c.server + (f" ({c.variant})" if c.variant else "")
            if key == "f":
                notes.append("ratios to nginx's (a)" if base else "no ratios: (a) did not run")
            else:
                notes += per_round(c, base, lambda x: x.run.rps)
            notes += stolen(c, bench.layout)
            lines.append(
                f"| {titles[key]} | {server} | {c.run.rps:,.0f} | {c.run.p50_ms:.3f} | {c.run.p99_ms:.3f} "
                f"| {c.cpu_per_10k:.3f} | {c.busy(workers):.0%} | {c.peak_rss_mib:.1f} "
                f"| {' | '.join(ratios_to(c, base))} | {'; '.join(notes)} |"
            )

    lines += [
        "",
        "## The loader's and backend's own ceiling",
        "",
        "The loader straight to the backend, no proxy between, same protocol and connections: "
        "what the loader and the backend reach on the core they share in every cell. It is a "
        "reference, not a hard bound: through a proxy the backend serves fewer, busier "
        "keep-alive connections (and HTTP/1.1 instead of h2 in (b)), which costs it less, so a "
        f"proxy can pass it. A cell at {BACKEND_BOUND:.0%} of it or more is marked as possibly "
        "backend-bound; its busy share tells whether the proxy itself was the limit. (e) and "
        "(f) use (a)'s.",
        "",
        "| for scenario | rps | p99 ms |",
        "|---|--:|--:|",
    ]
    lines += [f"| {titles[k]} | {c.run.rps:,.0f} | {c.run.p99_ms:.3f} |" for k, c in bench.ceilings.items()]

    if bench.fixed_rate:
        nginx = next(c for c in bench.fixed_rate if c.server == "nginx")
        lines += [
            "",
            f"## Latency at a fixed rate: {bench.fixed_rate_rps:,.0f} requests/s (half of nginx's (a) maximum)",
            "",
            f"Scenario (a)'s route, h2load over HTTP/1.1, {32} connections each sending at a fixed rate "
            "(a request due while its connection is busy waits, and its latency counts from when it "
            "was sent). p50 and p99 are medians of the rounds; the note gives the p99 ratio of each "
            "round. *No proxy* is the loader straight to the backend at the same rate, in the same "
            "rotation: the latency that the loader and the backend, sharing their core, cause "
            "themselves. *p99 added* is a server's p99 less that one.",
            "",
            "| server | rps | p50 ms | p99 ms | p99 ÷ nginx | p99 added ms | CPU s/10k | note |",
            "|---|--:|--:|--:|--:|--:|--:|---|",
        ]
        direct = bench.fixed_rate_direct
        for c in bench.fixed_rate + ([direct] if direct else []):
            notes = list(c.run.problems)
            if c.run.rps < 0.97 * bench.fixed_rate_rps:
                notes.append("could not keep the rate: its latency is not comparable")
            notes += per_round(c, nginx, lambda x: x.run.p99_ms)
            notes += stolen(c, bench.layout)
            name, added = ("no proxy", "") if c is direct else (c.server, added_p99(c, direct))
            cpu = "" if c is direct else f"{c.cpu_per_10k:.3f}"
            lines.append(
                f"| {name} | {c.run.rps:,.0f} | {c.run.p50_ms:.3f} | {c.run.p99_ms:.3f} "
                f"| {ratio(c.run.p99_ms, nginx.run.p99_ms)} | {added} | {cpu} | {'; '.join(notes)} |"
            )

    lines += ["", "## Targets", ""]
    lines += targets(bench)
    lines += [
        "",
        "## Memory",
        "",
        f"- Weir idle, every pipeline built (the four built-in WASM filters of (e) and the custom "
        f"filter loaded): **{bench.weir_idle_rss_mib:.1f} MiB** RSS (target ≤ 30 MB)",
        f"- Weir's peak RSS under load, the largest of its cells: **{bench.weir_peak_rss_mib:.1f} MiB** "
        "(target ≤ 60 MB)",
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def added_p99(cell, direct):
    """A server's fixed-rate p99 less the loader's own straight to the backend ("" when
    that was not measured)."""
    return f"{cell.run.p99_ms - direct.run.p99_ms:+.3f}" if direct else ""


def find(bench, scenario, server, variant=""):
    return next((c for c in bench.cells if (c.scenario, c.server, c.variant) == (scenario, server, variant)), None)


def targets(bench):
    out = []

    def line(met, text):
        out.append(f"- {'met' if met else '**missed**'}: {text}")

    for key in "ab":
        weir, nginx = find(bench, key, "weir"), find(bench, key, "nginx")
        if weir and nginx:
            line(weir.run.rps >= nginx.run.rps, f"({key}) rps ≥ nginx: {weir.run.rps / nginx.run.rps:.2f}×")
            line(
                weir.run.p99_ms <= nginx.run.p99_ms,
                f"({key}) p99 ≤ nginx's at full speed: {weir.run.p99_ms:.3f} ms against {nginx.run.p99_ms:.3f} ms",
            )
    if bench.fixed_rate:
        weir = next(c for c in bench.fixed_rate if c.server == "weir")
        nginx = next(c for c in bench.fixed_rate if c.server == "nginx")
        direct = bench.fixed_rate_direct
        line(
            weir.run.p99_ms <= nginx.run.p99_ms,
            f"(a) p99 ≤ nginx's at a fixed rate: {weir.run.p99_ms:.3f} ms against {nginx.run.p99_ms:.3f} ms"
            + (
                f" (with no proxy {direct.run.p99_ms:.3f} ms: Weir adds {added_p99(weir, direct)} ms, "
                f"nginx {added_p99(nginx, direct)} ms)"
                if direct
                else ""
            ),
        )
    a, e = find(bench, "a", "weir"), find(bench, "e", "weir")
    if a and e:
        line(e.run.rps >= 0.85 * a.run.rps, f"(e) ≥ 0.85 × Weir's own (a): {e.run.rps / a.run.rps:.2f}×")
        line(
            e.run.rps >= 0.85 * a.run.rps,
            f"issue 5: the five-filter chain loses ≤ 15 % of the Proxy-alone rps: it loses {1 - e.run.rps / a.run.rps:.1%}",
        )
    if bench.half_load:
        def mean_p99(label):
            runs = [c.run.p99_ms for c in bench.half_load if c.scenario == label]
            return sum(runs) / len(runs)

        added = mean_p99("chain") - mean_p99("proxy-only")
        retaken = sum(len(c.retaken) for c in bench.half_load)
        line(
            added <= 0.2,
            f"issue 5: ≤ 0.2 ms added p99 at half load ({bench.half_load_rps:,.0f} requests/s): "
            f"{mean_p99('proxy-only'):.3f} ms alone, {mean_p99('chain'):.3f} ms with the chain "
            f"(means of two runs each), {added:+.3f} ms"
            + (f"; {retaken} take{'s' if retaken != 1 else ''} of these discarded for steal" if retaken else ""),
        )
    if bench.weir_idle_rss_mib:
        line(bench.weir_idle_rss_mib * 1.048576 <= 30, f"idle RSS ≤ 30 MB: {bench.weir_idle_rss_mib * 1.048576:.1f} MB")
    if bench.weir_peak_rss_mib:
        line(bench.weir_peak_rss_mib * 1.048576 <= 60, f"RSS under load ≤ 60 MB: {bench.weir_peak_rss_mib * 1.048576:.1f} MB")
    return out
