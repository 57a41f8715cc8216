"""The benchmark proper: starting the servers, checking that each answers as configured,
and measuring every cell (one scenario against one server), interleaved: within a
scenario every server runs in turn, in an order that rotates from one round and one
scenario to the next, so no server always goes first or last. Each cell is measured in
several short rounds and reported by its medians, so that one burst of noise from a
neighbour on a shared machine moves one round, not the result."""

import http.client
import os
import socket
import ssl
import statistics
import subprocess
import time
from dataclasses import dataclass, field

import load
import procstat
from peers import API_KEY, CHAIN, H1, H2C, RESPONSE_HEADER, TLS, WASM_INSTANCE, WASM_POOL

HEADERS = (f"X-Api-Key: {API_KEY}",)


@dataclass
class Layout:
    proxy_cpus: str
    load_cpus: str
    workers: int

    @staticmethod
    def pinned(workers):
        """The proxy's workers on the first cores; the loader and the backend share the
        rest."""
        cores = os.cpu_count()
        if cores < workers + 1:
            raise SystemExit(f"bench: {workers} proxy worker(s) need at least {workers + 1} cores; this machine has {cores}")
        return Layout(proxy_cpus=cpu_list(0, workers - 1), load_cpus=cpu_list(workers, cores - 1), workers=workers)

    @property
    def load_cpu_count(self):
        return len(procstat.cpus(self.load_cpus))


def cpu_list(first, last):
    """A taskset CPU list."""
    return str(first) if first == last else f"{first}-{last}"


@dataclass
class Scenario:
    key: str
    title: str
    loader: str  # "wrk" or "h2load"
    offset: int
    path: str
    connections: int
    streams: int = 1
    scheme: str = "http"
    # The backend port offset (and scheme) the loader uses to measure the ceiling of
    # the loader and the backend together, with no proxy in between.
    ceiling_offset: int = H1
    ceiling_scheme: str = "http"


SCENARIOS = [
    Scenario("a", "(a) HTTP/1.1 keep-alive, 128 B", "wrk", H1, "/small", 64),
    Scenario("b", "(b) HTTP/2 h2c, 128 B", "h2load", H2C, "/small", 16, streams=8, ceiling_offset=H2C),
    Scenario("c", "(c) HTTP/1.1, 1 MiB", "wrk", H1, "/1m", 16),
    Scenario("d", "(d) TLS 1.3, HTTP/1.1, 128 B", "wrk", TLS, "/small", 64, scheme="https",
             ceiling_offset=TLS, ceiling_scheme="https"),
    Scenario("e", "(e) filter chain, 128 B", "wrk", CHAIN, "/small", 64),
]
WASM = [("pool", WASM_POOL), ("instance", WASM_INSTANCE)]

# Fixed-rate latency runs: h2load over HTTP/1.1, this many connections sharing the rate.
RATE_CONNECTIONS = 32

# A measurement in which the hypervisor took this share of the proxy's CPU time, or of
# the loader's and backend's, or more is taken again (see `Bench.steady`). p99 is the
# most sensitive figure: at 1 % of 4 s, 40 ms of stalls in a few bursts can be enough
# to make a p99 several times its neighbours'.
STEAL_RETAKE = 0.02


@dataclass
class Cell:
    scenario: str
    server: str
    run: load.Run
    cpu_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    variant: str = ""
    # Seconds stolen by the hypervisor during the measured run from the proxy's CPUs,
    # and from the loader's and backend's.
    steal_seconds: float = 0.0
    loader_steal_seconds: float = 0.0
    # The rounds a combined cell was made from (see `combine`), in the order run.
    rounds: list = field(default_factory=list)
    # The steal shares of earlier takes of this measurement that were discarded for
    # their steal (see `Bench.steady`), in the order run.
    retaken: list = field(default_factory=list)

    @property
    def cpu_per_10k(self):
        if self.rounds:
            return statistics.median(r.cpu_per_10k for r in self.rounds)
        return self.cpu_seconds / self.run.requests * 10_000 if self.run.requests else 0.0

    def busy(self, workers):
        """Share of the proxy's cores it kept busy: near 1 means the proxy was the bound."""
        return self.cpu_seconds / self.run.seconds / workers if self.run.seconds else 0.0

    def steal(self, layout):
        """The larger share of time the hypervisor took from the proxy's cores or from
        the loader's: the one stolen from could not run then, so the proxy loses rps
        and gains latency it did not cause."""
        if not self.run.seconds:
            return 0.0
        proxy = self.steal_seconds / self.run.seconds / layout.workers
        loader = self.loader_steal_seconds / self.run.seconds / layout.load_cpu_count
        return max(proxy, loader)


def combine(rounds):
    """One cell from its rounds: the median rps, p50, p99 and CPU per request, each on
    its own; the largest RSS; the busy share over all rounds; every problem seen."""
    first = rounds[0]
    run = load.Run(
        requests=sum(r.run.requests for r in rounds),
        seconds=sum(r.run.seconds for r in rounds),
        rps=statistics.median(r.run.rps for r in rounds),
        p50_ms=statistics.median(r.run.p50_ms for r in rounds),
        p99_ms=statistics.median(r.run.p99_ms for r in rounds),
        problems=sorted({p for r in rounds for p in r.run.problems}),
    )
    return Cell(
        first.scenario,
        first.server,
        run,
        cpu_seconds=sum(r.cpu_seconds for r in rounds),
        peak_rss_mib=max(r.peak_rss_mib for r in rounds),
        variant=first.variant,
        steal_seconds=sum(r.steal_seconds for r in rounds),
        loader_steal_seconds=sum(r.loader_steal_seconds for r in rounds),
        rounds=rounds,
    )


@dataclass
class Bench:
    layout: Layout
    backend: object
    servers: list
    seconds: int
    warmup: int
    rounds: int
    work: str
    cells: list = field(default_factory=list)
    ceilings: dict = field(default_factory=dict)
    fixed_rate: list = field(default_factory=list)
    fixed_rate_rps: float = 0.0
    # The loader straight to the backend at the same fixed rate: the latency that no
    # proxy adds, against which each proxy's share of the fixed-rate p99 is read.
    fixed_rate_direct: object = None
    half_load: list = field(default_factory=list)
    half_load_rps: float = 0.0
    weir_idle_rss_mib: float = 0.0
    weir_peak_rss_mib: float = 0.0
    # How many times one measurement may be taken again for steal; 0 keeps every take.
    retakes: int = 2

    def server(self, name):
        """The server called `name`, or None (`bench/profile` may run a peer alone)."""
        return next((s for s in self.servers if s.name == name), None)

    # ---- starting and checking -------------------------------------------------------

    def start_all(self):
        for peer in [self.backend] + self.servers:
            for port in peer.ports():
                if accepts(port):
                    raise SystemExit(f"bench: port {port} is taken by something else; {peer.name} needs it")
            peer.start()
            wait_for_ports(peer)
        # Weir's idle memory is a target, measured when Weir is among the servers.
        weir = self.server("weir")
        if weir:
            self.weir_idle_rss_mib = procstat.rss_mib(procstat.tree(weir.process.pid))
        for peer in self.servers:
            check(peer, self.layout)

    def stop_all(self):
        for peer in self.servers + [self.backend]:
            peer.stop()

    # ---- measuring ---------------------------------------------------------------------

    def loader(self, scenario, port, scheme, log_name):
        url = f"{scheme}://127.0.0.1:{port}{scenario.path}"
        cpus = self.layout.load_cpus
        if scenario.loader == "wrk":
            return lambda seconds, log=None: load.wrk(cpus, url, scenario.connections, seconds, HEADERS)
        log_path = os.path.join(self.work, log_name)
        return lambda seconds, log=log_path: load.h2load(
            cpus, url, scenario.connections, scenario.streams, seconds, HEADERS, log=log
        )

    def measure(self, peer, loader):
        """Warm-up (discarded), then a measured run with the proxy's CPU, its peak RSS and
        the time stolen from its CPUs and from the loader's (see `Cell.steal`)."""
        loader(self.warmup, None)
        pids = procstat.tree(peer.process.pid)
        procstat.reset_peak_rss(pids)
        cpu_before = procstat.cpu_seconds(pids)
        steal_before = self.steal_now()
        run = loader(self.seconds)
        cpu = procstat.cpu_seconds(pids) - cpu_before
        steal = [after - before for after, before in zip(self.steal_now(), steal_before)]
        peak = procstat.peak_rss_mib(pids)
        if peer.name == "weir":
            self.weir_peak_rss_mib = max(self.weir_peak_rss_mib, peak)
        return cpu, peak, steal, run

    def steal_now(self):
        """Steal so far, in seconds: the proxy's CPUs', then the loader's."""
        return procstat.steal_seconds(self.layout.proxy_cpus), procstat.steal_seconds(self.layout.load_cpus)

    def cell(self, scenario, peer, offset, variant="", round_=1):
        loader = self.loader(scenario, peer.port(offset), scenario.scheme, f"{peer.name}-{scenario.key}.log")
        print(f"  {scenario.key} round {round_} {peer.name} {variant}".rstrip(), end=" ", flush=True)
        cpu, peak, (steal, loader_steal), run = self.measure(peer, loader)
        cell = Cell(scenario.key, peer.name, run, cpu, peak, variant, steal, loader_steal)
        print(f"{run.rps:,.0f} rps, p99 {run.p99_ms:.2f} ms{self.stolen(cell)} {'; '.join(run.problems)}", flush=True)
        return cell

    def stolen(self, cell):
        """The round's steal, for its progress line ("" when none was seen)."""
        share = cell.steal(self.layout)
        return f", {share:.0%} stolen" if share else ""

    def steady(self, take):
        """`take()`, a measurement, taken again while the hypervisor took `STEAL_RETAKE`
        or more of the proxy's or the loader's CPU time (`Cell.steal`), at most
        `retakes` more times. The least-stolen take is kept, and it records the
        discarded takes' steal for the results. The rule is the same for every server,
        and a retake runs right after the take it replaces, so the servers stay
        interleaved. At worst a cell takes `1 + retakes` times as long."""
        layout = self.layout
        takes = [take()]
        while takes[-1].steal(layout) >= STEAL_RETAKE and len(takes) <= self.retakes:
            print(f"    {takes[-1].steal(layout):.0%} stolen: taking it again", flush=True)
            takes.append(take())
        kept = min(takes, key=lambda c: c.steal(layout))
        kept.retaken = [c.steal(layout) for c in takes if c is not kept]
        return kept

    def in_rounds(self, peers, turn, measure):
        """`measure(peer, round)` for every peer in every round, the order rotating by
        `turn` and by round, each taken again if stolen (`steady`); returns one combined
        cell per peer, in `peers` order."""
        by_peer = {id(p): [] for p in peers}
        for r in range(self.rounds):
            shift = (turn + r) % len(peers)
            for peer in peers[shift:] + peers[:shift]:
                by_peer[id(peer)].append(self.steady(lambda: measure(peer, r + 1)))
        return [combine(by_peer[id(p)]) for p in peers]

    def ceiling(self, scenario):
        loader = self.loader(
            scenario,
            self.backend.port(scenario.ceiling_offset),
            scenario.ceiling_scheme,
            f"backend-{scenario.key}.log",
        )
        print(f"  {scenario.key} backend ceiling", end=" ", flush=True)
        cpu, peak, _, run = self.measure(self.backend, loader)
        print(f"{run.rps:,.0f} rps", flush=True)
        self.ceilings[scenario.key] = Cell(scenario.key, "backend", run, cpu, peak)

    def at_rate(self, peer, offset, total_rps, label, round_=1):
        """Latency at a fixed request rate, over HTTP/1.1 keep-alive."""
        url = f"http://127.0.0.1:{peer.port(offset)}/small"
        log = os.path.join(self.work, f"rate-{peer.name}-{label}.log")
        per_connection = total_rps / RATE_CONNECTIONS

        def loader(seconds, log=log):
            return load.h2load(
                self.layout.load_cpus, url, RATE_CONNECTIONS, 1, seconds, HEADERS,
                h1=True, rps_per_client=per_connection, log=log,
            )

        print(f"  {label} round {round_} {peer.name} at {total_rps:,.0f} rps", end=" ", flush=True)
        cpu, peak, (steal, loader_steal), run = self.measure(peer, loader)
        cell = Cell(label, peer.name, run, cpu, peak, steal_seconds=steal, loader_steal_seconds=loader_steal)
        print(f"p50 {run.p50_ms:.3f} ms, p99 {run.p99_ms:.3f} ms{self.stolen(cell)} {'; '.join(run.problems)}", flush=True)
        return cell

    def run(self, only):
        scenarios = [s for s in SCENARIOS if s.key in only]
        print("backend ceilings", flush=True)
        for scenario in scenarios:
            # (e) and (f) load the backend exactly as (a) does: (a)'s ceiling is theirs.
            if scenario.key != "e":
                self.ceiling(scenario)
        for turn, scenario in enumerate(scenarios):
            print(scenario.title, flush=True)
            self.cells += self.in_rounds(
                self.servers, turn, lambda peer, r: self.cell(scenario, peer, scenario.offset, round_=r)
            )
        if "f" in only:
            scenario = Scenario("f", "(f) custom WASM filter, 128 B", "wrk", 0, "/small", 64)
            print(scenario.title, flush=True)
            weir = self.server("weir")
            for variant, offset in WASM:
                self.cells += self.in_rounds(
                    [weir], 0, lambda peer, r: self.cell(scenario, peer, offset, variant, r)
                )
        if "a" in only:
            self.fixed_rate_runs()
        if "a" in only and "e" in only:
            self.half_load_runs()

    def fixed_rate_runs(self):
        """Every server at the same rate, half of nginx's (a) maximum."""
        nginx = next(c for c in self.cells if c.scenario == "a" and c.server == "nginx")
        self.fixed_rate_rps = nginx.run.rps / 2
        print("latency at a fixed rate", flush=True)
        # The backend takes its turn in the same rotation, so that the latency with no
        # proxy at all is measured under the same conditions as each proxy's.
        *self.fixed_rate, self.fixed_rate_direct = self.in_rounds(
            self.servers + [self.backend], 0, lambda peer, r: self.at_rate(peer, H1, self.fixed_rate_rps, "rate", r)
        )

    def half_load_runs(self):
        """Issue 5: Weir's five-filter chain against its Proxy alone, both at half of
        Weir's proxy-only maximum; run twice in alternating order."""
        weir = self.server("weir")
        alone = next(c for c in self.cells if c.scenario == "a" and c.server == "weir")
        self.half_load_rps = alone.run.rps / 2
        print("issue 5: half load", flush=True)
        for offset, label in [(H1, "proxy-only"), (CHAIN, "chain"), (CHAIN, "chain"), (H1, "proxy-only")]:
            self.half_load.append(self.steady(lambda: self.at_rate(weir, offset, self.half_load_rps, label)))


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_for_ports(peer, deadline_s=90):
    deadline = time.time() + deadline_s
    for port in peer.ports():
        while True:
            if peer.process.poll() is not None:
                raise SystemExit(f"bench: {peer.name} exited at start; see {peer.dir}/stderr.log")
            if accepts(port):
                break
            if time.time() > deadline:
                raise SystemExit(f"bench: {peer.name} is not listening on {port} after {deadline_s} s")
            time.sleep(0.05)


def check(peer, layout):
    """Each server answers as configured before anything is measured."""

    def get(connection, path, headers):
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response, body

    key = {"X-Api-Key": API_KEY}
    plain = lambda offset: http.client.HTTPConnection("127.0.0.1", peer.port(offset), timeout=5)  # noqa: E731
    response, body = get(plain(H1), "/small", key)
    expect(peer, response.status == 200 and len(body) == 128, f"GET /small gave {response.status}, {len(body)} B")
    response, body = get(plain(H1), "/1m", key)
    expect(peer, response.status == 200 and len(body) == 1 << 20, f"GET /1m gave {response.status}, {len(body)} B")
    response, _ = get(plain(CHAIN), "/small", {})
    expect(peer, response.status == 400, f"the chain let a request without the key through ({response.status})")
    response, _ = get(plain(CHAIN), "/small", key)
    name, value = RESPONSE_HEADER
    expect(peer, response.status == 200 and response.getheader(name) == value, "the chain did not set its header")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    response, _ = get(http.client.HTTPSConnection("127.0.0.1", peer.port(TLS), timeout=5, context=context), "/small", key)
    expect(peer, response.status == 200, f"GET over TLS gave {response.status}")
    h2 = load.h2load(layout.load_cpus, f"http://127.0.0.1:{peer.port(H2C)}/small", 1, 1, 1, (f"X-Api-Key: {API_KEY}",))
    expect(peer, h2.requests > 0 and not h2.problems, f"h2c prior knowledge failed: {h2.problems}")


def expect(peer, ok, what):
    if not ok:
        raise SystemExit(f"bench: {peer.name} is not configured as the others: {what}; see {peer.dir}")


def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"
