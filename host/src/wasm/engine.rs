//! The one wasmtime engine: epoch interruption, and the pooling allocator
//! with copy-on-write memory images, so that making an instance is cheap enough to do
//! per request in isolated mode.

use super::epoch;
use std::sync::OnceLock;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy};

/// The largest `maxMemory` a filter may ask for. Every pooled memory slot reserves
/// this much address space (not memory), so it is kept modest.
pub const MEMORY_CEILING: usize = 256 << 20;

/// How many instances may exist at once across all filters. Each holds a pooled slot;
/// past this, making an instance fails and the request fails by its filter's policy.
const MAX_INSTANCES: u32 = 1000;

/// The engine every component is compiled for and runs on. The first use starts the
/// thread that advances the epoch (`epoch.rs`).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = build(true).unwrap_or_else(|error| {
            // The pool reserves all its address space up front (hundreds of GiB of it,
            // not memory). Where that is refused (`ulimit -v`, some sandboxes, valgrind)
            // Weir still runs, allocating each instance when it is made.
            tracing::warn!(
                error = %format!("{error:#}"),
                "the WASM instance pool cannot reserve its address space; allocating instances on demand, \
                 which makes isolated-mode filters slower (is virtual memory limited, e.g. by ulimit -v?)"
            );
            build(false).expect("the wasmtime configuration is valid on this platform")
        });
        epoch::start_ticker(engine.clone());
        engine
    })
}

/// Set to write the perf map; see [`perf_map_requested`].
pub const PERF_MAP_VARIABLE: &str = "WEIR_PERF_MAP";

/// Whether `WEIR_PERF_MAP` asks for a perf map (set, and not empty or `0`). `perf`
/// cannot name the functions of compiled filter code on its own; with the map, which
/// wasmtime writes to `/tmp/perf-PID.map` as each component is loaded, a profile shows
/// where a filter's own time goes. perf reads the map only for code in anonymous
/// memory, so `main` then compiles in-process rather than mapping a child's output.
pub fn perf_map_requested() -> bool {
    std::env::var_os(PERF_MAP_VARIABLE).is_some_and(|value| !value.is_empty() && value != "0")
}

/// An engine with the pooling allocator or without; with the perf map if asked for and
/// it can be written, without it (and a warning) if not.
fn build(pooled: bool) -> wasmtime::Result<Engine> {
    if perf_map_requested() {
        let mut with_map = config(pooled);
        with_map.profiler(ProfilingStrategy::PerfMap);
        match Engine::new(&with_map) {
            Ok(engine) => return Ok(engine),
            Err(error) => tracing::warn!(
                error = %format!("{error:#}"),
                "{PERF_MAP_VARIABLE} is set but the perf map cannot be written; carrying on without it"
            ),
        }
    }
    Engine::new(&config(pooled))
}

/// The engine's settings; `pooled` chooses the pooling allocator over allocating each
/// instance on demand. Compiled code does not depend on the choice.
fn config(pooled: bool) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_INSTANCES)
        // A Rust component holds a few core instances (the program and its adapter
        // shims), each with a table or two.
        .total_core_instances(MAX_INSTANCES * 4)
        .total_memories(MAX_INSTANCES)
        .total_tables(MAX_INSTANCES * 4)
        .total_stacks(MAX_INSTANCES)
        .max_memory_size(MEMORY_CEILING);

    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .wasm_component_model(true)
        .memory_reservation(MEMORY_CEILING as u64)
        .memory_guard_size(64 << 10)
        .allocation_strategy(if pooled {
            InstanceAllocationStrategy::Pooling(pool)
        } else {
            InstanceAllocationStrategy::OnDemand
        });
    config
}
