//! The `weir` command: `run` serves a configuration; the other commands are clients of
//! a running Weir's admin API, except `validate`, which checks a file offline.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use weir::admin::{Admin, AdminAuth};
use weir::app::App;
use weir::cli::Target;
use weir::reload::ReloadLog;
use weir::store::ConfigStore;
use weir::watch::FileWatch;

/// See the note on the `mimalloc` dependency: most of a request's allocations are
/// small and freed on the same thread soon after.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Serve the objects in a configuration file, and follow its changes.
    Run {
        /// YAML file with one object (HTTPServer, Pipeline) per document. Changes made
        /// through the admin API are written back to it.
        #[arg(short, long)]
        config: PathBuf,
        /// Address of the admin API. A non-loopback address needs --admin-token.
        #[arg(long, default_value = "127.0.0.1:2381")]
        admin: SocketAddr,
        /// Bearer token that admin API changes must carry when it listens beyond loopback.
        #[arg(long, env = "WEIR_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// On SIGTERM/SIGINT, how long requests in flight may take to finish.
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        drain_timeout: Duration,
        /// Do not reload when the configuration file or a module changes.
        #[arg(long)]
        no_watch: bool,
        /// Worker threads that serve traffic (default: one per CPU core). Set it to give
        /// Weir the same share of the machine as another server, or to leave cores free.
        #[arg(long, env = "WEIR_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
    },
    /// Create or update every object in FILE (`-` for standard input).
    Apply {
        #[arg(short, long)]
        file: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Show objects of a kind, or one of them.
    Get {
        kind: String,
        name: Option<String>,
        /// yaml or json.
        #[arg(short, long, default_value = "yaml")]
        output: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Show an object's spec and its live status.
    Describe {
        kind: String,
        name: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Delete an object.
    Delete {
        kind: String,
        name: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Check a configuration file without serving it (the same checks `run` makes).
    Validate {
        #[arg(short, long)]
        file: String,
    },
    /// Internal: `run` starts this to compile one filter component (read from stdin)
    /// into OUTPUT, so the compiler's memory is never the proxy's.
    #[command(name = weir::wasm::COMPILER_SUBCOMMAND, hide = true)]
    CompileComponent { output: PathBuf },
}

#[derive(clap::Args)]
struct TargetArgs {
    /// The admin API of the Weir to talk to.
    #[arg(long, default_value = "127.0.0.1:2381", env = "WEIR_SERVER")]
    server: String,
    #[arg(long, env = "WEIR_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl TargetArgs {
    fn target(self) -> Target {
        Target {
            server: self.server,
            token: self.token,
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    weir::config::duration::parse(text)
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    if let Command::Validate { file } = &cli.command {
        return exit(weir::cli::validate(file));
    }
    if let Command::CompileComponent { output } = &cli.command {
        return ExitCode::from(weir::wasm::compiler_child_main(output));
    }
    let threads = match &cli.command {
        Command::Run { threads, .. } => *threads,
        _ => None,
    };
    let runtime = match runtime(threads) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    exit(runtime.block_on(async {
        match cli.command {
            Command::Run {
                config,
                admin,
                admin_token,
                drain_timeout,
                no_watch,
                threads: _,
            } => run(config, admin, admin_token, drain_timeout, !no_watch).await,
            Command::Apply { file, target } => weir::cli::apply(&target.target(), &file).await,
            Command::Get {
                kind,
                name,
                output,
                target,
            } => weir::cli::get(&target.target(), &kind, name.as_deref(), &output).await,
            Command::Describe { kind, name, target } => weir::cli::describe(&target.target(), &kind, &name).await,
            Command::Delete { kind, name, target } => weir::cli::delete(&target.target(), &kind, &name).await,
            Command::Validate { .. } | Command::CompileComponent { .. } => unreachable!("handled above"),
        }
    }))
}

/// The async runtime: `threads` workers, or one per core when not given. One thread gets
/// tokio's single-threaded scheduler: with nobody to steal work from, the multi-threaded
/// one only adds atomic bookkeeping and a second thread to every wakeup.
fn runtime(threads: Option<u16>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(threads) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(usize::from(threads));
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build()
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(
    config: PathBuf,
    admin_addr: SocketAddr,
    admin_token: Option<String>,
    drain_timeout: Duration,
    watch: bool,
) -> anyhow::Result<()> {
    let auth = AdminAuth::new(admin_addr, admin_token).map_err(anyhow::Error::msg)?;
    // WEIR_COMPILE_IN_PROCESS is an operator's way out, say where no child process may
    // be started. A perf map needs the code in this process's own memory.
    let perf_map = weir::wasm::perf_map_requested();
    if perf_map {
        tracing::info!(
            "{} is set: filter code is compiled in-process, for perf to name from /tmp/perf-{}.map",
            weir::wasm::PERF_MAP_VARIABLE,
            std::process::id()
        );
    }
    if std::env::var_os("WEIR_COMPILE_IN_PROCESS").is_none() && !perf_map {
        weir::wasm::use_child_process(weir::wasm::this_program().context("cannot find the weir program itself")?);
    }
    // Watching starts before the first read, so no change can slip between the two.
    let file_watch = if watch {
        Some(FileWatch::new(&config).context("cannot watch the configuration file")?)
    } else {
        None
    };
    let store = Arc::new(ConfigStore::new(config.clone(), Arc::new(ReloadLog::default())));
    let objects = store.load()?;
    let config_dir = config.parent().map(PathBuf::from).unwrap_or_default();
    let admin_listener = tokio::net::TcpListener::bind(admin_addr)
        .await
        .with_context(|| format!("cannot listen on the admin address {admin_addr}"))?;
    let app = Arc::new(App::start(objects, &config_dir).await?);
    tracing::info!(admin = %admin_listener.local_addr()?, config = %config.display(), "weir is serving");
    let admin = Arc::new(Admin {
        app: app.clone(),
        store: store.clone(),
        auth,
    });
    let admin_task = tokio::spawn(weir::admin::serve(admin_listener, admin));
    let watch_task = file_watch.map(|w| w.spawn(app.clone(), store));

    wait_for_signal().await?;
    tracing::info!(drain = ?drain_timeout, "shutting down: no new connections; finishing requests in flight");
    if let Some(task) = watch_task {
        task.abort();
    }
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
