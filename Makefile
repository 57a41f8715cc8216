# The one task runner. CI runs `make test`, exactly as a person would.
.PHONY: run test toolchain deps build lint unit e2e bench-swap bench

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
CARGO ?= cargo
JOBS ?= 2

## Run Weir on examples/quickstart.yaml in front of the demo backend (Ctrl-C stops both).
run: toolchain
	$(CARGO) build -j$(JOBS) --release -p weir -p weir-tests --bins
	@./target/release/demo-backend --port 9095 & backend=$$!; \
	trap 'kill $$backend 2>/dev/null' EXIT; \
	./target/release/weir run --config examples/quickstart.yaml; \
	status=$$?; kill $$backend 2>/dev/null; exit $$status

## Install what the tests need, then run every check and test.
# Incremental caches only pay off when the same crate is rebuilt after an edit; for one
# full run they roughly double the size of target/.
test: export CARGO_INCREMENTAL ?= 0
test: deps lint build unit

# The toolchain rust-toolchain.toml names, with rustfmt, clippy and the WASM target the
# built-in filters build for. Does nothing when they are already there.
toolchain:
	rustup toolchain install

deps: toolchain
	# The JWT and basic-auth tests make keys and hashes with the openssl CLI; Node runs
	# the AssemblyScript compiler.
	command -v openssl >/dev/null || (apt-get update && apt-get install -y openssl)
	command -v npm >/dev/null || (apt-get update && apt-get install -y nodejs npm)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy -j$(JOBS) --workspace --all-targets -- -D warnings

build:
	$(CARGO) build -j$(JOBS) --workspace --bins

# Ends with one total line, so the last word is not a doc-test run that had 0 tests.
unit:
	mkdir -p target
	$(CARGO) test -j$(JOBS) --workspace 2>&1 | tee target/test.log
	# The built-in filters and the example filter are workspaces of their own (they
	# build for wasm32-wasip2); their unit tests run natively against the SDK's host.
	$(CARGO) test -j$(JOBS) --manifest-path builtin-filters/Cargo.toml --target-dir target/builtin-filters-native 2>&1 | tee -a target/test.log
	$(CARGO) test -j$(JOBS) --manifest-path examples/Cargo.toml --target-dir target/examples-native 2>&1 | tee -a target/test.log
	# The AssemblyScript SDK's own unit tests, in Node (npm installs the pinned compiler).
	cd sdk-assemblyscript && npm ci --no-audit --no-fund && npm test 2>&1 | tee -a ../target/test.log
	@awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($$(i+1) ~ /^passed/) p += $$i; if ($$(i+1) ~ /^failed/) f += $$i } } END { printf "tests: %d passed, %d failed\n", p, f }' target/test.log

## Hot-swap benchmark: module change to first request served by it, and throughput
## during a swap storm against steady state (release build).
bench-swap:
	$(CARGO) build -j$(JOBS) --release -p weir -p weir-tests --bins
	WEIR_BIN=target/release/weir WEIR_LOG=warn ./target/release/swap_bench

## Weir against nginx, HAProxy and Caddy on loopback (a few minutes); writes
## bench/RESULTS.md. Installs the peers and loaders from Debian packages if missing.
bench: deps
	./bench/run
