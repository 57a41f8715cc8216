//! Watching the configuration file and every module file its pipelines were built from.
//!
//! Editors often save by writing a new file and renaming it over the old one, and
//! Kubernetes swaps a ConfigMap by moving a symlink. Event paths are unreliable across
//! those, so Weir watches the *directories*, and on any event compares the content of
//! the files it cares about with the content that was last read or built. Only a real
//! difference reloads.

use crate::app::App;
use crate::store::ConfigStore;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time after the last event before reloading, so a burst of writes (an editor's
/// save) is read once. Short, because it adds to every swap; a file caught half-written
/// fails to build, changes nothing, and its final write's event tries again.
const SETTLE: Duration = Duration::from_millis(10);

/// A directory watch that is already recording events. Create it before the first load,
/// so no change can fall between loading and watching.
pub struct FileWatch {
    watcher: RecommendedWatcher,
    watched_dirs: HashSet<PathBuf>,
    arrivals: mpsc::Receiver<()>,
}

impl FileWatch {
    pub fn new(config: &Path) -> notify::Result<FileWatch> {
        let (events, arrivals) = mpsc::channel::<()>(1);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok() {
                // A full channel already holds a wake-up; one is enough.
                let _ = events.try_send(());
            }
        })?;
        let mut watch = FileWatch {
            watcher,
            watched_dirs: HashSet::new(),
            arrivals,
        };
        watch.watch_dir_of(config)?;
        Ok(watch)
    }

    fn watch_dir_of(&mut self, file: &Path) -> notify::Result<()> {
        let dir = file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        if self.watched_dirs.insert(dir.clone()) {
            self.watcher.watch(&dir, RecursiveMode::NonRecursive)?;
        }
        Ok(())
    }

    /// Reloads on every real change until the returned task is aborted.
    pub fn spawn(mut self, app: Arc<App>, store: Arc<ConfigStore>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut modules = self.follow_modules(&app).await;
            while self.arrivals.recv().await.is_some() {
                while tokio::time::timeout(SETTLE, self.arrivals.recv())
                    .await
                    .is_ok_and(|e| e.is_some())
                {}
                let config = settled_digest(store.path(), store.seen()).await;
                let changed_modules: HashSet<PathBuf> = modules
                    .iter()
                    .filter(|(path, built)| digest(path) != Some(*built))
                    .map(|(p, _)| p.clone())
                    .collect();
                // A config file caught mid-replacement reads as missing; wait for the next event.
                let config_changed = config.is_some() && config != store.seen();
                if config_changed || !changed_modules.is_empty() {
                    let _ = store.reload(&app, &changed_modules).await;
                    modules = self.follow_modules(&app).await;
                }
            }
        })
    }

    /// The modules running pipelines were built from, with their digests; their
    /// directories are watched from now on.
    async fn follow_modules(&mut self, app: &App) -> Vec<(PathBuf, [u8; 32])> {
        let modules = app.sources().await;
        for (path, _) in &modules {
            if let Err(e) = self.watch_dir_of(path) {
                tracing::warn!(module = %path.display(), error = %e, "cannot watch a module's directory");
            }
        }
        modules
    }
}

/// How long the configuration file must stay the same before a change is read.
const STABLE: Duration = Duration::from_millis(25);

/// The config file's digest once two reads `STABLE` apart agree. A file written in
/// place can be read between its truncation and its last write, and a cut-off YAML file
/// may still parse: as a configuration with a document missing, which would delete a
/// live object. (Modules need no such wait: a cut-off module fails to compile, and
/// nothing changes.)
async fn settled_digest(path: &Path, seen: Option<[u8; 32]>) -> Option<[u8; 32]> {
    let mut current = digest(path);
    if current == seen {
        return current;
    }
    loop {
        tokio::time::sleep(STABLE).await;
        let again = digest(path);
        if again == current {
            return current;
        }
        current = again;
    }
}

/// SHA-256 of a file's content (following symlinks), or None if it cannot be read.
fn digest(path: &Path) -> Option<[u8; 32]> {
    std::fs::read(path).ok().map(|bytes| Sha256::digest(&bytes).into())
}
