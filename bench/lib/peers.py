"""The servers under test and the backend behind them: their configuration files and how
each is started. Every proxy is configured alike: one worker, access logs off, keep-alive
to the client and to the backend, responses streamed (not spooled), the same routes.

Ports, per proxy from its base port: +0 HTTP/1.1, +1 h2c (prior knowledge), +2 TLS,
+3 the filter chain (header check, header set on request and response), +4 and +5 a
custom WASM filter pooled and isolated (Weir only).
"""

import os
import subprocess

H1, H2C, TLS, CHAIN, WASM_POOL, WASM_INSTANCE = range(6)

def example_filter(root):
    """The example custom filter of scenario (f), built by the tests' build script into
    the repository's own target directory (never CARGO_TARGET_DIR: see tests/build.rs)."""
    return os.path.join(root, "target", "examples-wasm", "wasm32-wasip2", "release", "api_key_filter.wasm")


# What scenario (e) checks and sets, the same for every proxy.
API_KEY = "k-bench"
REQUEST_HEADER = ("X-Source", "bench")
RESPONSE_HEADER = ("X-Adapted", "yes")


class Peer:
    """One server process (plus its children) under test."""

    name = ""

    def __init__(self, base_port, backend_port, workdir, cert, key, cpus, workers):
        self.base = base_port
        self.workers = workers
        self.backend = backend_port
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.cert, self.key = cert, key
        self.cpus = cpus
        self.process = None

    def port(self, offset):
        return self.base + offset

    def ports(self):
        """The ports that must accept before the peer counts as started."""
        return [self.port(p) for p in (H1, H2C, TLS, CHAIN)]

    def command(self):
        raise NotImplementedError

    def environment(self):
        return dict(os.environ)

    def start(self):
        self.write_config()
        log = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.process = subprocess.Popen(
            ["taskset", "-c", self.cpus] + self.command(),
            cwd=self.dir,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class Backend(Peer):
    """nginx serving two static files: the fastest native backend at hand. Port +0 is
    HTTP/1.1 (what every proxy talks to), +1 is h2c and +2 TLS, used only to measure the
    loader-and-backend ceiling of each client protocol."""

    name = "backend"
    small_bytes = 128
    large_bytes = 1 << 20

    def write_config(self):
        www = os.path.join(self.dir, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "small"), "wb") as f:
            f.write((b"0123456789abcdef" * 8)[: self.small_bytes - 1] + b"\n")
        with open(os.path.join(www, "1m"), "wb") as f:
            f.write(os.urandom(self.large_bytes))
        self.config = self.write(
            "nginx.conf",
            f"""{nginx_globals(self.dir, self.workers)}
http {{
    access_log off;
    keepalive_requests 10000000;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=16;
    open_file_cache_valid 60s;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{self.port(H1)} reuseport;
        listen 127.0.0.1:{self.port(H2C)} http2;
        listen 127.0.0.1:{self.port(TLS)} ssl;
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        root {www};
    }}
}}
""",
        )

    def ports(self):
        return [self.port(p) for p in (H1, H2C, TLS)]

    def command(self):
        return ["nginx", "-p", self.dir, "-c", self.config, "-e", "stderr"]


def nginx_globals(prefix, workers):
    return f"""user root;
worker_processes {workers};
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{
    worker_connections 20000;
}}"""


class Nginx(Peer):
    name = "nginx"

    def write_config(self):
        tmp = os.path.join(self.dir, "tmp")
        os.makedirs(tmp, exist_ok=True)
        proxy = """proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;"""
        rh, rv = REQUEST_HEADER
        sh, sv = RESPONSE_HEADER
        self.config = self.write(
            "nginx.conf",
            f"""{nginx_globals(self.dir, self.workers)}
http {{
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path {tmp}/client;
    proxy_temp_path {tmp}/proxy;
    upstream backend {{
        server 127.0.0.1:{self.backend};
        keepalive 256;
        keepalive_requests 10000000;
    }}
    server {{
        listen 127.0.0.1:{self.port(H1)};
        location / {{
            {proxy}
        }}
    }}
    server {{
        listen 127.0.0.1:{self.port(H2C)} http2;
        location / {{
            {proxy}
        }}
    }}
    server {{
        listen 127.0.0.1:{self.port(TLS)} ssl http2;
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        location / {{
            {proxy}
        }}
    }}
    server {{
        listen 127.0.0.1:{self.port(CHAIN)};
        location / {{
            if ($http_x_api_key != "{API_KEY}") {{
                return 400;
            }}
            proxy_set_header {rh} {rv};
            add_header {sh} {sv} always;
            {proxy}
        }}
    }}
}}
""",
        )

    def command(self):
        return ["nginx", "-p", self.dir, "-c", self.config, "-e", "stderr"]


class Haproxy(Peer):
    name = "haproxy"

    def write_config(self):
        pem = self.write("cert-and-key.pem", open(self.cert).read() + open(self.key).read())
        rh, rv = REQUEST_HEADER
        sh, sv = RESPONSE_HEADER
        self.config = self.write(
            "haproxy.cfg",
            f"""global
    nbthread {self.workers}
    maxconn 8000
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
frontend h1
    bind 127.0.0.1:{self.port(H1)}
    default_backend backend
frontend h2c
    bind 127.0.0.1:{self.port(H2C)} proto h2
    default_backend backend
frontend tls
    bind 127.0.0.1:{self.port(TLS)} ssl crt {pem} alpn h2,http/1.1
    default_backend backend
frontend chain
    bind 127.0.0.1:{self.port(CHAIN)}
    http-request deny deny_status 400 unless {{ req.hdr(x-api-key) -m str {API_KEY} }}
    http-request set-header {rh} {rv}
    http-response set-header {sh} {sv}
    default_backend backend
backend backend
    server backend 127.0.0.1:{self.backend}
""",
        )

    def command(self):
        return ["haproxy", "-db", "-f", self.config]


class Caddy(Peer):
    name = "caddy"

    def write_config(self):
        rh, rv = REQUEST_HEADER
        sh, sv = RESPONSE_HEADER
        upstream = f"""reverse_proxy 127.0.0.1:{self.backend} {{
        flush_interval -1
        transport http {{
            keepalive 90s
            keepalive_idle_conns 256
            keepalive_idle_conns_per_host 256
        }}
    }}"""
        self.config = self.write(
            "Caddyfile",
            f"""{{
    admin off
    auto_https off
    servers {{
        protocols h1 h2 h2c
    }}
}}
http://127.0.0.1:{self.port(H1)} {{
    {upstream}
}}
http://127.0.0.1:{self.port(H2C)} {{
    {upstream}
}}
https://127.0.0.1:{self.port(TLS)} {{
    tls {self.cert} {self.key}
    {upstream}
}}
http://127.0.0.1:{self.port(CHAIN)} {{
    @refused not header X-Api-Key {API_KEY}
    respond @refused 400
    request_header {rh} {rv}
    header {sh} {sv}
    {upstream}
}}
""",
        )

    def command(self):
        return ["caddy", "run", "--adapter", "caddyfile", "--config", self.config]

    def environment(self):
        env = dict(os.environ)
        # As many workers as the others: Go runs goroutines on this many threads.
        env["GOMAXPROCS"] = str(self.workers)
        env["XDG_DATA_HOME"] = os.path.join(self.dir, "data")
        env["XDG_CONFIG_HOME"] = os.path.join(self.dir, "config")
        return env


class Weir(Peer):
    name = "weir"

    def __init__(self, binary, wasm_module, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.binary = binary
        self.wasm_module = wasm_module

    def ports(self):
        return [self.port(p) for p in (H1, H2C, TLS, CHAIN, WASM_POOL, WASM_INSTANCE)]

    def write_config(self):
        rh, rv = REQUEST_HEADER
        sh, sv = RESPONSE_HEADER

        def server(name, offset, pipeline, tls=""):
            return f"""kind: HTTPServer
name: {name}-server
port: {self.port(offset)}
address: 127.0.0.1
keepAlive: true
accessLog: false
maxConnections: 20000
{tls}rules:
  - paths:
      - backend: {pipeline}
---
"""

        def block(path):
            return "\n".join("    " + line for line in open(path).read().splitlines())

        tls = f"https: true\ncerts:\n  bench: |\n{block(self.cert)}\nkeys:\n  bench: |\n{block(self.key)}\n"
        proxy = f"""  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: http://127.0.0.1:{self.backend}
"""

        def wasm_pipeline(name, isolation):
            return f"""kind: Pipeline
name: {name}
flow:
  - filter: api-key
  - filter: proxy
filters:
  - name: api-key
    kind: Wasm
    module: {self.wasm_module}
    isolation: {isolation}
    config:
      keys:
        {API_KEY}: bench
{proxy}---
"""

        self.config = self.write(
            "weir.yaml",
            server("h1", H1, "proxy")
            + server("h2c", H2C, "proxy")
            + server("tls", TLS, "proxy", tls)
            + server("chain", CHAIN, "chain")
            + server("wasm-pool", WASM_POOL, "wasm-pool")
            + server("wasm-instance", WASM_INSTANCE, "wasm-instance")
            + f"kind: Pipeline\nname: proxy\nflow:\n  - filter: proxy\nfilters:\n{proxy}---\n"
            + f"""kind: Pipeline
name: chain
flow:
  - filter: validator
    jumpIf: {{ invalid: END }}
  - filter: limiter
    jumpIf: {{ rateLimited: END }}
  - filter: request-adaptor
  - filter: proxy
  - filter: response-adaptor
filters:
  - name: validator
    kind: Validator
    headers:
      X-Api-Key:
        values: ["{API_KEY}"]
  - name: limiter
    kind: RateLimiter
    # Far above any rate reached here: the cost of counting is measured, not refusals.
    policies:
      - name: generous
        limitForPeriod: 100000000
        limitRefreshPeriod: 1s
        timeoutDuration: 0s
    defaultPolicyRef: generous
  - name: request-adaptor
    kind: RequestAdaptor
    header:
      set:
        {rh}: {rv}
{proxy}  - name: response-adaptor
    kind: ResponseAdaptor
    header:
      set:
        {sh}: "{sv}"
---
"""
            + wasm_pipeline("wasm-pool", "pool")
            + wasm_pipeline("wasm-instance", "instance").removesuffix("---\n"),
        )

    def command(self):
        return [
            self.binary,
            "run",
            "--config",
            self.config,
            "--no-watch",
            "--admin",
            f"127.0.0.1:{self.port(9)}",
            "--threads",
            str(self.workers),
        ]

    def environment(self):
        env = dict(os.environ)
        env["WEIR_LOG"] = "warn"
        return env


# The backend's port, and each proxy's base port, in the order a run lists them.
BACKEND_PORT = 18080
PROXY_PORTS = {"weir": 18100, "nginx": 18200, "haproxy": 18300, "caddy": 18400}


def proxy(name, weir, wasm, cpus, **common):
    """The proxy called `name` (a key of `PROXY_PORTS`), on its ports and in front of the
    backend, as every run and profile makes it; `weir` and `wasm` (Weir's binary and
    the example filter) are used only for Weir."""
    kind = {"weir": Weir, "nginx": Nginx, "haproxy": Haproxy, "caddy": Caddy}[name]
    first = (weir, wasm) if kind is Weir else ()
    return kind(*first, PROXY_PORTS[name], BACKEND_PORT, cpus=cpus, **common)


def make_certificate(work):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost, made afresh."""
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
