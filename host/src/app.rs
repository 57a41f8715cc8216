//! The running proxy and how it changes. [`App::apply`] takes a whole desired
//! configuration, builds only what differs from what runs (off the request path),
//! binds any new ports, and then commits everything at once. If any part fails, nothing
//! changes: the old configuration keeps serving and the error is returned.

use crate::config::{ConfigError, FieldError, Located, ObjectSpec, PipelineSpec};
use crate::pipeline::{BuildContext, FilterKinds, Pipeline};
use crate::registry::PipelineRegistry;
use crate::server::{HttpServer, RunningServer};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The running proxy.
pub struct App {
    live: Mutex<Live>,
    pub pipelines: Arc<PipelineRegistry>,
    kinds: FilterKinds,
    config_dir: PathBuf,
}

/// What runs now.
#[derive(Default)]
struct Live {
    objects: Vec<Located>,
    servers: HashMap<String, RunningServer>,
    pipelines: HashMap<String, LivePipeline>,
}

struct LivePipeline {
    spec: PipelineSpec,
    pipeline: Arc<Pipeline>,
}

/// What one [`App::apply`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub pipelines_built: Vec<String>,
    pub pipelines_removed: Vec<String>,
    pub servers_started: Vec<String>,
    pub servers_updated: Vec<String>,
    pub servers_stopped: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

impl App {
    /// Builds and starts everything in `objects`. `config_dir` anchors relative paths.
    pub async fn start(objects: Vec<Located>, config_dir: &Path) -> Result<App, ConfigError> {
        let app = App {
            live: Mutex::new(Live::default()),
            pipelines: Arc::new(PipelineRegistry::default()),
            kinds: FilterKinds::builtin(),
            config_dir: config_dir.to_path_buf(),
        };
        app.apply(objects, &HashSet::new()).await?;
        Ok(app)
    }

    /// The objects that run now, in order.
    pub async fn objects(&self) -> Vec<Located> {
        self.live.lock().await.objects.clone()
    }

    /// Files the running pipelines were built from (modules to watch), with the digest
    /// of the content they were built from.
    pub async fn sources(&self) -> Vec<(PathBuf, [u8; 32])> {
        let live = self.live.lock().await;
        let mut all: Vec<(PathBuf, [u8; 32])> = live.pipelines.values().flat_map(|p| p.pipeline.sources()).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Makes `objects` the running configuration. Pipelines whose spec is unchanged keep
    /// running (with their health checks and balancer state) unless one of their source
    /// files is in `changed_files`. Changes are serialised: one apply at a time.
    pub async fn apply(&self, objects: Vec<Located>, changed_files: &HashSet<PathBuf>) -> Result<Changes, ConfigError> {
        let mut live = self.live.lock().await;
        check_unique_names(&objects)?;
        let mut changes = Changes::default();

        // 1. Build every new or changed pipeline. Nothing is published yet.
        let mut built: Vec<(PipelineSpec, Arc<Pipeline>)> = Vec::new();
        for object in &objects {
            let ObjectSpec::Pipeline(spec) = &object.spec else {
                continue;
            };
            let unchanged = live.pipelines.get(&spec.name).is_some_and(|running| {
                running.spec == *spec
                    && !running
                        .pipeline
                        .sources()
                        .iter()
                        .any(|(path, _)| changed_files.contains(path))
            });
            if unchanged {
                continue;
            }
            let pipeline = self.build_pipeline(spec.clone()).await.map_err(|e| object.error(e))?;
            built.push((spec.clone(), Arc::new(pipeline)));
        }

        // 2. Build every new or changed server, and bind the addresses not yet listened on.
        let mut updates = Vec::new();
        let mut starts = Vec::new();
        let mut addresses: Vec<(SocketAddr, &str)> = Vec::new();
        for object in &objects {
            let ObjectSpec::HttpServer(spec) = &object.spec else {
                continue;
            };
            let server = match live.servers.get(&spec.name) {
                Some(running) if running.spec() == *spec => {
                    addresses.push((running.addr, &spec.name));
                    continue;
                }
                _ => HttpServer::build(spec, &self.pipelines).map_err(|e| object.error(e))?,
            };
            let addr = server.listen_addr();
            if let Some((_, other)) = addresses
                .iter()
                .find(|(a, _)| a.port() == addr.port() && overlaps(*a, addr))
            {
                let message = format!("port {} is also used by HTTPServer {other:?}", addr.port());
                return Err(object.error(FieldError::new("port", message)));
            }
            addresses.push((addr, &spec.name));
            warn_missing_backends(spec, &objects);
            match live.servers.get(&spec.name) {
                Some(running) if same_listener(running.addr, addr) => updates.push(server),
                _ => {
                    let listener = server
                        .bind()
                        .await
                        .map_err(|e| object.error(FieldError::new("port", format!("cannot listen on {addr}: {e}"))))?;
                    starts.push((server, listener));
                }
            }
        }

        // 3. Commit: everything below is infallible.
        let wanted: HashSet<&str> = objects.iter().map(|o| o.spec.name()).collect();
        for (spec, pipeline) in built {
            self.pipelines.publish(pipeline.clone());
            changes.pipelines_built.push(spec.name.clone());
            live.pipelines
                .insert(spec.name.clone(), LivePipeline { spec, pipeline });
        }
        let gone: Vec<String> = live
            .pipelines
            .keys()
            .filter(|n| !wanted.contains(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            live.pipelines.remove(&name);
            self.pipelines.remove(&name);
            changes.pipelines_removed.push(name);
        }
        for server in updates {
            changes.servers_updated.push(server.spec.name.clone());
            live.servers[&server.spec.name].update(server);
        }
        let mut stopping = Vec::new();
        for (server, listener) in starts {
            let name = server.spec.name.clone();
            // A server that moved to another address: the old listener drains in the background.
            stopping.extend(live.servers.remove(&name));
            live.servers.insert(name.clone(), server.start(listener));
            changes.servers_started.push(name);
        }
        let gone: Vec<String> = live
            .servers
            .keys()
            .filter(|n| !wanted.contains(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            stopping.extend(live.servers.remove(&name));
            changes.servers_stopped.push(name);
        }
        for server in stopping {
            tokio::spawn(server.shutdown());
        }
        live.objects = objects;
        Ok(changes)
    }

    /// Compiling WASM modules and starting health checks is work for a blocking thread,
    /// not for a thread that serves requests.
    async fn build_pipeline(&self, spec: PipelineSpec) -> Result<Pipeline, FieldError> {
        let kinds = self.kinds.clone();
        let ctx = BuildContext::new(spec.name.clone(), self.config_dir.clone());
        tokio::task::spawn_blocking(move || Pipeline::build(&spec, &kinds, &ctx))
            .await
            .unwrap_or_else(|e| Err(FieldError::whole(format!("building the pipeline panicked: {e}"))))
    }

    /// Where each server listens, by name.
    pub async fn addresses(&self) -> Vec<(String, SocketAddr)> {
        self.live
            .lock()
            .await
            .servers
            .values()
            .map(|s| (s.name.clone(), s.addr))
            .collect()
    }

    /// Stops accepting on every server and waits up to `drain` for requests in flight to
    /// finish. Returns false if some were still running when the time ran out.
    pub async fn shutdown(&self, drain: Duration) -> bool {
        let servers: Vec<RunningServer> = self.live.lock().await.servers.drain().map(|(_, s)| s).collect();
        let all = async {
            let mut tasks = tokio::task::JoinSet::new();
            for server in servers {
                tasks.spawn(server.shutdown());
            }
            while tasks.join_next().await.is_some() {}
        };
        tokio::time::timeout(drain, all).await.is_ok()
    }
}

fn check_unique_names(objects: &[Located]) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for object in objects {
        if !seen.insert(object.spec.name()) {
            return Err(object.error(FieldError::new("name", "another object already has this name")));
        }
    }
    Ok(())
}

fn warn_missing_backends(spec: &crate::config::HttpServerSpec, objects: &[Located]) {
    let pipelines: HashSet<&str> = objects
        .iter()
        .filter(|o| matches!(o.spec, ObjectSpec::Pipeline(_)))
        .map(|o| o.spec.name())
        .collect();
    for path in spec
        .rules
        .iter()
        .flat_map(|r| &r.paths)
        .filter(|p| !pipelines.contains(p.backend.as_str()))
    {
        tracing::warn!(server = %spec.name, backend = %path.backend, "route to a pipeline that does not exist; it answers 503");
    }
}

/// Two listen addresses collide when one is a wildcard or they are equal.
fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip().is_unspecified() || b.ip().is_unspecified() || a.ip() == b.ip()
}

fn same_listener(running: SocketAddr, wanted: SocketAddr) -> bool {
    running.port() == wanted.port() && running.ip() == wanted.ip()
}
