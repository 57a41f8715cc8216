//! Turning component bytes into machine code: in a child process when running as
//! `weir run`, in this process otherwise (unit tests, benches, library use).
//!
//! Why a child process: Cranelift allocates tens of megabytes while it compiles and runs
//! megabytes of its own code. In the proxy's process all of that stayed resident for
//! the process's life (the allocator keeps freed heap, and touched code pages stay
//! mapped), which doubled the memory of an idle proxy with a few filters. The child
//! `weir compile-component` does the work and exits. It hands the machine code back in
//! a file that this process maps, so only the pages that requests actually execute
//! become resident. It also means a module that crashes or exhausts the compiler takes
//! down the child, not the proxy serving traffic.

use super::compiled::LoadError;
use super::engine::engine;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use wasmtime::component::Component;

/// The subcommand the child runs. Hidden from `weir --help`: it is not for people.
pub const SUBCOMMAND: &str = "compile-component";

/// The child's exit status for "this module cannot be compiled": its stderr is then the
/// reason, shown to the user. Any other failure means the child itself could not do
/// the work, and the module is compiled in-process instead.
const REJECTED: u8 = 3;

static CHILD_EXE: OnceLock<PathBuf> = OnceLock::new();

/// Compile in child processes from now on, running `exe` (this program).
pub fn use_child_process(exe: PathBuf) {
    let _ = CHILD_EXE.set(exe);
}

/// The program to run as the child: on Linux, `/proc/self/exe` names the running
/// binary even after an upgrade replaced the file on disk, so child and parent always
/// agree on the compiled-code format.
pub fn this_program() -> std::io::Result<PathBuf> {
    let proc_self = Path::new("/proc/self/exe");
    if proc_self.exists() {
        return Ok(proc_self.to_path_buf());
    }
    std::env::current_exe()
}

/// Compiles `bytes` into a component ready to link.
pub fn compile(bytes: &[u8]) -> Result<Component, LoadError> {
    let Some(exe) = CHILD_EXE.get() else {
        return in_process(bytes);
    };
    let started = std::time::Instant::now();
    match in_child(exe, bytes) {
        Ok(component) => {
            tracing::debug!(bytes = bytes.len(), elapsed = ?started.elapsed(), "component compiled in a child process");
            Ok(component)
        }
        Err(ChildFailure::Rejected(reason)) => Err(LoadError::Invalid(reason)),
        Err(ChildFailure::Unavailable(why)) => {
            tracing::warn!(%why, "the compiler process failed; compiling in the proxy's process instead");
            in_process(bytes)
        }
    }
}

fn in_process(bytes: &[u8]) -> Result<Component, LoadError> {
    Component::new(engine(), bytes).map_err(|e| LoadError::Invalid(format!("{e:#}")))
}

enum ChildFailure {
    /// The module is not a valid component: the reason, for the user.
    Rejected(String),
    /// The child could not run or its output could not be used.
    Unavailable(String),
}

fn in_child(exe: &Path, bytes: &[u8]) -> Result<Component, ChildFailure> {
    let unavailable = |what: &str, e: &dyn std::fmt::Display| ChildFailure::Unavailable(format!("{what}: {e}"));
    // A fresh directory only this user can enter (mode 0700), so nobody else can swap
    // the file between the child writing it and this process mapping it.
    let dir = tempfile::Builder::new()
        .prefix("weir-compile-")
        .tempdir()
        .map_err(|e| unavailable("cannot make a temporary directory", &e))?;
    let output_path = dir.path().join("component.cwasm");
    let mut child = Command::new(exe)
        .arg(SUBCOMMAND)
        .arg(&output_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env("WEIR_LOG", "error")
        .spawn()
        .map_err(|e| unavailable(&format!("cannot start {}", exe.display()), &e))?;
    // The child reads all of its input before it writes anything, so writing the whole
    // module before reading its stderr cannot deadlock.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(bytes)
            .map_err(|e| unavailable("cannot send the module to the compiler process", &e))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| unavailable("lost the compiler process", &e))?;
    let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if output.status.code() == Some(i32::from(REJECTED)) {
        return Err(ChildFailure::Rejected(message));
    }
    if !output.status.success() {
        return Err(unavailable(
            &format!("the compiler process ended with {}", output.status),
            &message,
        ));
    }
    map_compiled(&output_path).map_err(|e| unavailable("cannot load the compiled module", &format!("{e:#}")))
    // `dir` goes here, unlinking the file; the mapping keeps its pages.
}

/// Maps the machine code the child wrote.
#[allow(unsafe_code)]
fn map_compiled(path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime trusts a compiled artifact to be its own output, unmodified: it
    // checks the format version and that the engine settings match, but cannot check
    // the machine code. The file was written by this same binary (the child runs
    // /proc/self/exe with the same engine configuration) into a directory only this
    // user can write to, created for this one compile, and it is not changed after.
    unsafe { Component::deserialize_file(engine(), path) }
}

/// The child's side, `weir compile-component OUTPUT`: reads a component from stdin,
/// compiles it and writes the result to OUTPUT. Returns the process exit status.
pub fn child_main(output_path: &Path) -> u8 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("cannot read the module: {e}");
        return 1;
    }
    let compiled = match engine().precompile_component(&bytes) {
        Ok(compiled) => compiled,
        Err(e) => {
            eprintln!("{e:#}");
            return REJECTED;
        }
    };
    if let Err(e) = std::fs::write(output_path, compiled) {
        eprintln!("cannot write {}: {e}", output_path.display());
        return 1;
    }
    0
}
