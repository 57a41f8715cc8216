//! The `weir` command.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use weir::app::App;

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "A programmable HTTP proxy whose filters are WebAssembly components"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the objects in a configuration file.
    Run {
        /// YAML file with one object (HTTPServer, Pipeline) per document.
        #[arg(short, long)]
        config: PathBuf,
        /// Address of the admin API.
        #[arg(long, default_value = "127.0.0.1:2381")]
        admin: SocketAddr,
        /// On SIGTERM/SIGINT, how long requests in flight may take to finish.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        drain_timeout: Duration,
    },
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    weir::config::duration::parse(text)
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            admin,
            drain_timeout,
        } => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run(config, admin, drain_timeout)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

async fn run(config: PathBuf, admin: SocketAddr, drain_timeout: Duration) -> anyhow::Result<()> {
    let objects = weir::config::load_file(&config)?;
    let config_dir = config.parent().map(PathBuf::from).unwrap_or_default();
    let admin_listener = weir::admin::bind(admin)
        .await
        .with_context(|| format!("cannot listen on the admin address {admin}"))?;
    let app = App::start(&objects, &config_dir).await?;
    tracing::info!(admin = %admin_listener.local_addr()?, objects = objects.len(), "weir is serving");
    let admin_task = tokio::spawn(weir::admin::serve(admin_listener));

    wait_for_signal().await?;
    tracing::info!(drain = ?drain_timeout, "shutting down: no new connections; finishing requests in flight");
    if app.shutdown(drain_timeout).await {
        tracing::info!("all requests finished");
    } else {
        tracing::warn!("drain timeout reached with requests still in flight");
    }
    admin_task.abort();
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEIR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}
