//! The per-instance memory cap (`maxMemory`) and the errors that tell a timeout or the
//! cap apart from other traps.

use std::fmt;

/// A guest tried to grow its memory past the filter's `maxMemory`.
#[derive(Debug)]
pub struct MemoryCapExceeded {
    pub cap: usize,
    pub wanted: usize,
}

impl fmt::Display for MemoryCapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "memory cap of {} bytes reached (wanted {} bytes)",
            self.cap, self.wanted
        )
    }
}

impl std::error::Error for MemoryCapExceeded {}

/// A call ran past the filter's `timeout`.
#[derive(Debug)]
pub struct DeadlineExceeded {
    pub timeout: std::time::Duration,
}

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ran past its timeout of {:?}", self.timeout)
    }
}

impl std::error::Error for DeadlineExceeded {}

/// Caps linear memory at `max_bytes` per memory, and tables at a size no filter needs
/// to pass.
#[derive(Debug)]
pub struct MemoryCap {
    pub max_bytes: usize,
}

const MAX_TABLE_ELEMENTS: usize = 100_000;

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            return Err(wasmtime::Error::new(MemoryCapExceeded {
                cap: self.max_bytes,
                wanted: desired,
            }));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
