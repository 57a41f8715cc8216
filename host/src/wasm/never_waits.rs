//! Instances whose calls never wait (ABI 1.3.0, `runtime.never-waits`), and so run as
//! plain function calls on the request's thread.
//!
//! wasmtime runs a call that may wait (a guest reading a body that is still arriving,
//! sleeping, calling out) on a stack of its own, which it sets aside while the host waits;
//! setting up and switching to that stack costs each call about 640 instructions on the
//! benchmark's chain (`bench/instructions`). Whether a call may wait is fixed by the
//! imports it is linked to: one waiting import makes every call of the instance take that
//! road. Every filter built with Rust's standard library imports some (WASI's blocking
//! stream writes at least), so a filter that promises never to wait gets instances from
//! a second linker, in which each waiting import is replaced by one that finishes at once
//! when it can and otherwise traps. A promise broken is then a trap, which the filter's
//! failure policy handles, rather than a thread blocked.

use super::handles::{RequestHandle, ResponseHandle};
use super::store_state::HostState;
use std::future::Future;
use std::task::{Context, Poll, Waker};
use wasmtime::component::{Linker, Resource, ResourceTable, ResourceType};
use wasmtime::StoreContextMut;
use wasmtime_wasi_io::bindings::wasi::io::poll::{Host as _, HostPollable};
use wasmtime_wasi_io::bindings::wasi::io::streams::{
    Host as _, HostInputStream, HostOutputStream, StreamError as WireStreamError,
};
use wasmtime_wasi_io::poll::DynPollable;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream, StreamResult};

/// The same world as `bindings.rs`, with its exports called without waiting. Imports
/// are those of `bindings.rs`: only the way the host calls in differs.
mod sync_bindings {
    wasmtime::component::bindgen!({
        path: "../abi/wit/filter@1.3.0",
        world: "filter",
        // The interfaces reused from `bindings.rs` have waiting functions, whose linking
        // code wants store data that can move between threads; the world's must too.
        require_store_data_send: true,
        with: {
            "weir:filter/types": crate::wasm::bindings::weir::filter::types,
            "weir:filter/log": crate::wasm::bindings::weir::filter::log,
            "weir:filter/clock": crate::wasm::bindings::weir::filter::clock,
            "weir:filter/random": crate::wasm::bindings::weir::filter::random,
            "weir:filter/state": crate::wasm::bindings::weir::filter::state,
            "weir:filter/http-client": crate::wasm::bindings::weir::filter::http_client,
            "weir:filter/runtime": crate::wasm::bindings::weir::filter::runtime,
        },
    });
}

pub use sync_bindings::{Filter as NeverWaitsBindings, FilterPre as NeverWaitsPre};

/// The version of `wasi:io` that wasmtime-wasi defines; the replacements must carry the
/// same name to take the place of its definitions.
const WASI_IO: &str = "0.2.12";

/// A copy of `linker` in which every import that can wait finishes at once or traps.
pub fn linker(linker: &Linker<HostState>) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = linker.clone();
    linker.allow_shadowing(true);
    replace_weir_imports(&mut linker)?;
    replace_wasi_io(&mut linker)?;
    Ok(linker)
}

/// Runs `future` as far as it goes without waiting: its result if it finishes on the
/// first poll, otherwise a trap naming what would have waited.
fn at_once<F: Future>(what: &str, future: F) -> wasmtime::Result<F::Output> {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(would_wait(what)),
    }
}

fn would_wait(what: &str) -> wasmtime::Error {
    wasmtime::format_err!(
        "the filter promised never to wait (runtime.never-waits) but {what}, which would have to wait"
    )
}

fn replace_weir_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use super::bindings::weir::filter::http_client::{IncomingResponse, OutgoingRequest};
    use super::bindings::weir::filter::types::{HostRequest, HostResponse};

    let mut types = linker.instance("weir:filter/types@1.3.0")?;
    // A body already in memory is read at once; one still streaming in is not touched,
    // since reading part of it and stopping would lose what was read.
    types.func_wrap(
        "[method]request.body",
        |mut store: StoreContextMut<HostState>, (this,): (Resource<RequestHandle>,)| {
            let state = store.data_mut();
            if !state.request_body_in_memory(&this)? {
                return Err(would_wait("it read a request body still arriving"));
            }
            Ok((at_once("it read a request body", HostRequest::body(state, this))??,))
        },
    )?;
    types.func_wrap(
        "[method]response.body",
        |mut store: StoreContextMut<HostState>, (this,): (Resource<ResponseHandle>,)| {
            let state = store.data_mut();
            if !state.response_body_in_memory(&this)? {
                return Err(would_wait("it read a response body still arriving"));
            }
            Ok((at_once("it read a response body", HostResponse::body(state, this))??,))
        },
    )?;
    linker.instance("weir:filter/clock@1.3.0")?.func_wrap(
        "sleep",
        |_: StoreContextMut<HostState>, (millis,): (u32,)| match millis {
            0 => Ok(()),
            _ => Err(would_wait(&format!("it slept {millis} ms"))),
        },
    )?;
    linker.instance("weir:filter/http-client@1.3.0")?.func_wrap(
        "call",
        |_: StoreContextMut<HostState>,
         (request,): (OutgoingRequest,)|
         -> wasmtime::Result<(Result<IncomingResponse, String>,)> {
            Err(would_wait(&format!("it called {}", request.url)))
        },
    )?;
    Ok(())
}

/// The stream result of a `wasi:io` method in the form its import returns: a stream
/// error becomes the WIT variant (or a trap, if it is one).
fn wire<T>(table: &mut ResourceTable, result: StreamResult<T>) -> wasmtime::Result<(Result<T, WireStreamError>,)> {
    Ok((match result {
        Ok(value) => Ok(value),
        Err(error) => Err(table.convert_stream_error(error)?),
    },))
}

type Table<'a> = StoreContextMut<'a, HostState>;
type Wired<T> = wasmtime::Result<(Result<T, WireStreamError>,)>;

/// `wasi:io`'s waiting imports, each running wasmtime-wasi's own implementation until it
/// would wait. Filters have no files or sockets; their stdout and stderr take every
/// write at once, so `eprintln!` still works.
fn replace_wasi_io(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut poll = linker.instance(&format!("wasi:io/poll@{WASI_IO}"))?;
    poll.func_wrap("poll", |mut store: Table, (list,): (Vec<Resource<DynPollable>>,)| {
        Ok((at_once("it polled until ready", store.data_mut().table.poll(list))??,))
    })?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: Table, (this,): (Resource<DynPollable>,)| {
            at_once("it blocked on a pollable", store.data_mut().table.block(this))?
        },
    )?;
    poll.func_wrap(
        "[method]pollable.ready",
        |mut store: Table, (this,): (Resource<DynPollable>,)| {
            Ok((at_once(
                "it asked a pollable whether it is ready",
                store.data_mut().table.ready(this),
            )??,))
        },
    )?;

    let mut streams = linker.instance(&format!("wasi:io/streams@{WASI_IO}"))?;
    streams.resource(
        "input-stream",
        ResourceType::host::<DynInputStream>(),
        |mut store, rep| {
            let table = &mut store.data_mut().table;
            at_once(
                "it closed an input stream",
                HostInputStream::drop(table, Resource::new_own(rep)),
            )?
        },
    )?;
    streams.resource(
        "output-stream",
        ResourceType::host::<DynOutputStream>(),
        |mut store, rep| {
            let table = &mut store.data_mut().table;
            at_once(
                "it closed an output stream",
                HostOutputStream::drop(table, Resource::new_own(rep)),
            )?
        },
    )?;
    streams.func_wrap(
        "[method]input-stream.blocking-read",
        |mut store: Table, (this, len): (Resource<DynInputStream>, u64)| -> Wired<Vec<u8>> {
            let table = &mut store.data_mut().table;
            let result = at_once("it read a stream", HostInputStream::blocking_read(table, this, len))?;
            wire(table, result)
        },
    )?;
    streams.func_wrap(
        "[method]input-stream.blocking-skip",
        |mut store: Table, (this, len): (Resource<DynInputStream>, u64)| -> Wired<u64> {
            let table = &mut store.data_mut().table;
            let result = at_once(
                "it skipped in a stream",
                HostInputStream::blocking_skip(table, this, len),
            )?;
            wire(table, result)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-flush",
        |mut store: Table, (this,): (Resource<DynOutputStream>,)| -> Wired<()> {
            let table = &mut store.data_mut().table;
            let result = at_once("it flushed a stream", HostOutputStream::blocking_flush(table, this))?;
            wire(table, result)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |mut store: Table, (this, bytes): (Resource<DynOutputStream>, Vec<u8>)| -> Wired<()> {
            let table = &mut store.data_mut().table;
            let write = HostOutputStream::blocking_write_and_flush(table, this, bytes);
            let result = at_once("it wrote to a stream", write)?;
            wire(table, result)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |mut store: Table, (this, len): (Resource<DynOutputStream>, u64)| -> Wired<()> {
            let table = &mut store.data_mut().table;
            let write = HostOutputStream::blocking_write_zeroes_and_flush(table, this, len);
            let result = at_once("it wrote to a stream", write)?;
            wire(table, result)
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-splice",
        |mut store: Table,
         (this, source, len): (Resource<DynOutputStream>, Resource<DynInputStream>, u64)|
         -> Wired<u64> {
            let table = &mut store.data_mut().table;
            let result = at_once(
                "it spliced streams",
                HostOutputStream::blocking_splice(table, this, source, len),
            )?;
            wire(table, result)
        },
    )?;
    Ok(())
}
