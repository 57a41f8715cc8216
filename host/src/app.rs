//! Turning a configuration into a running proxy: build every pipeline and server, bind
//! every port, and only then go live, so a bad configuration serves nothing at all.

use crate::config::{ConfigError, FieldError, Located, ObjectSpec};
use crate::pipeline::{BuildContext, FilterKinds, Pipeline};
use crate::registry::PipelineRegistry;
use crate::server::{HttpServer, RunningServer};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The running proxy.
pub struct App {
    servers: Vec<RunningServer>,
    pub pipelines: Arc<PipelineRegistry>,
}

impl App {
    /// Builds and starts everything in `objects`. `config_dir` anchors relative paths.
    pub async fn start(objects: &[Located], config_dir: &Path) -> Result<App, ConfigError> {
        let kinds = FilterKinds::builtin();
        let registry = Arc::new(PipelineRegistry::default());

        let mut pipelines = Vec::new();
        let mut pipeline_names = HashSet::new();
        for object in objects {
            if let ObjectSpec::Pipeline(spec) = &object.spec {
                let ctx = BuildContext {
                    pipeline: spec.name.clone(),
                    config_dir: config_dir.to_path_buf(),
                };
                let pipeline = Pipeline::build(spec, &kinds, &ctx).map_err(|e| object.error(e))?;
                pipeline_names.insert(spec.name.clone());
                pipelines.push(Arc::new(pipeline));
            }
        }

        let mut servers = Vec::new();
        let mut addresses: Vec<(SocketAddr, &str)> = Vec::new();
        for object in objects {
            if let ObjectSpec::HttpServer(spec) = &object.spec {
                let server = HttpServer::build(spec, &registry).map_err(|e| object.error(e))?;
                let addr = server.listen_addr();
                if let Some((_, other)) = addresses
                    .iter()
                    .find(|(a, _)| a.port() == addr.port() && overlaps(*a, addr))
                {
                    return Err(object.error(FieldError::new(
                        "port",
                        format!("port {} is also used by HTTPServer {other:?}", addr.port()),
                    )));
                }
                addresses.push((addr, &spec.name));
                for rule in &spec.rules {
                    for path in rule.paths.iter().filter(|p| !pipeline_names.contains(&p.backend)) {
                        tracing::warn!(server = %spec.name, backend = %path.backend, "route to a pipeline that does not exist; it answers 503");
                    }
                }
                servers.push((object, server));
            }
        }

        let mut listeners = Vec::new();
        for (object, server) in &servers {
            let addr = server.listen_addr();
            let listener = server
                .bind()
                .await
                .map_err(|e| object.error(FieldError::new("port", format!("cannot listen on {addr}: {e}"))))?;
            listeners.push(listener);
        }

        for pipeline in pipelines {
            registry.publish(pipeline);
        }
        let running = servers
            .into_iter()
            .zip(listeners)
            .map(|((_, server), listener)| server.start(listener))
            .collect();
        Ok(App {
            servers: running,
            pipelines: registry,
        })
    }

    /// Where each server listens, by name.
    pub fn addresses(&self) -> Vec<(String, SocketAddr)> {
        self.servers.iter().map(|s| (s.name.clone(), s.addr)).collect()
    }

    /// Stops accepting on every server and waits up to `drain` for requests in flight to
    /// finish. Returns false if some were still running when the time ran out.
    pub async fn shutdown(self, drain: Duration) -> bool {
        let all = async {
            let mut tasks = tokio::task::JoinSet::new();
            for server in self.servers {
                tasks.spawn(server.shutdown());
            }
            while tasks.join_next().await.is_some() {}
        };
        tokio::time::timeout(drain, all).await.is_ok()
    }
}

/// Two listen addresses collide when one is a wildcard or they are equal.
fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip().is_unspecified() || b.ip().is_unspecified() || a.ip() == b.ip()
}
