//! The one wasmtime engine: epoch interruption, and the pooling allocator
//! with copy-on-write memory images, so that making an instance is cheap enough to do
//! per request in isolated mode.

use super::epoch;
use std::sync::OnceLock;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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
        let engine = Engine::new(&config(true)).unwrap_or_else(|error| {
            // The pool reserves all its address space up front (hundreds of GiB of it,
            // not memory). Where that is refused (`ulimit -v`, some sandboxes, valgrind)
            // Weir still runs, allocating each instance when it is made.
            tracing::warn!(
                error = %format!("{error:#}"),
                "the WASM instance pool cannot reserve its address space; allocating instances on demand, \
                 which makes isolated-mode filters slower (is virtual memory limited, e.g. by ulimit -v?)"
            );
            Engine::new(&config(false)).expect("the wasmtime configuration is valid on this platform")
        });
        epoch::start_ticker(engine.clone());
        engine
    })
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
