//! The one wasmtime engine: epoch interruption, and the pooling allocator
//! with copy-on-write memory images, so that making an instance is cheap enough to do
//! per request in isolated mode.

use super::epoch;
use std::sync::OnceLock;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy};

/// The largest `maxMemory` a filter may ask for.
pub const MEMORY_CEILING: usize = 256 << 20;

/// The address space (not memory) reserved for each linear memory, where the process may
/// have it. With the whole 32-bit range reserved and a guard region past it, no address a
/// guest can form reaches outside its own reservation, so compiled filter code needs no
/// bounds check on its loads and stores: 2.5% fewer instructions per request through the
/// benchmark's four-filter chain (`bench/instructions`, 52,362 against 51,038). A
/// thousand pooled slots take about 4 TiB of the 128 TiB a 64-bit process may address.
const FULL_RESERVATION: u64 = 4 << 30;

/// The guard region past each full reservation: loads with a static offset below it need
/// no check either (wasmtime's default size).
const FULL_GUARD: u64 = 32 << 20;

/// Where the address space is limited (`ulimit -v`), each memory reserves only the
/// ceiling, and compiled code checks bounds: a thousand full reservations would not fit,
/// and on-demand instances of 4 GiB each would exhaust a modest limit after a few.
const LIMITED_GUARD: u64 = 64 << 10;

/// How many instances may exist at once across all filters. Each holds a pooled slot;
/// past this, making an instance fails and the request fails by its filter's policy.
const MAX_INSTANCES: u32 = 1000;

/// The engine every component is compiled for and runs on. The first use starts the
/// thread that advances the epoch (`epoch.rs`).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = build(true).unwrap_or_else(|error| {
            // The pool reserves all its address space up front (terabytes of it,
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
/// instance on demand. Compiled code does not depend on that choice, but does depend on
/// the reservation; the compiler process inherits the limits and so chooses the same.
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

    let (reservation, guard) = if address_space_limited() {
        (MEMORY_CEILING as u64, LIMITED_GUARD)
    } else {
        (FULL_RESERVATION, FULL_GUARD)
    };
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .wasm_component_model(true)
        .memory_reservation(reservation)
        .memory_guard_size(guard)
        .allocation_strategy(if pooled {
            InstanceAllocationStrategy::Pooling(pool)
        } else {
            InstanceAllocationStrategy::OnDemand
        });
    config
}

/// Whether this process's address space is limited (`RLIMIT_AS`, as set by `ulimit -v`),
/// read from `/proc/self/limits`. Anywhere that file cannot be read, it is taken as not
/// limited.
fn address_space_limited() -> bool {
    std::fs::read_to_string("/proc/self/limits").is_ok_and(|limits| limits_address_space(&limits))
}

/// Whether the "Max address space" line of a `/proc/PID/limits` text sets a soft limit.
fn limits_address_space(limits: &str) -> bool {
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max address space"))
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|soft| soft != "unlimited")
}

#[cfg(test)]
mod tests {
    use super::limits_address_space;

    #[test]
    fn reads_the_address_space_limit_from_proc_limits() {
        let unlimited = "Limit                     Soft Limit           Hard Limit           Units     \n\
                         Max stack size            8388608              unlimited            bytes     \n\
                         Max address space         unlimited            unlimited            bytes     \n";
        let limited = "Max stack size            8388608              unlimited            bytes     \n\
                       Max address space         17179869184          unlimited            bytes     \n";
        assert!(!limits_address_space(unlimited));
        assert!(limits_address_space(limited));
        assert!(!limits_address_space("no such line\n"));
    }
}
