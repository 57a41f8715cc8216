//! A small echo backend for trying Weir by hand and for benchmarks: it answers every
//! request with a JSON description of what it received.

use clap::Parser;
use weir_tests::{Backend, BackendOptions};

#[derive(Parser)]
struct Args {
    /// Port to listen on (127.0.0.1).
    #[arg(long, default_value_t = 9095)]
    port: u16,
    /// Name reported in responses (`"backend"` field and `X-Backend` header).
    #[arg(long, default_value = "demo")]
    name: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let backend = Backend::start_with(BackendOptions {
        name: args.name,
        port: Some(args.port),
        tls: None,
    })
    .await;
    eprintln!("demo backend {:?} listening on {}", backend.name, backend.addr);
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("watch SIGTERM");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
