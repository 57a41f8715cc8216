//! The configuration file as the one source of truth. Changes made through the admin
//! API are applied and then written back to the file (atomically, by rename), so a
//! restart serves the same configuration. Untouched documents keep their text and
//! comments; changed ones are written as they were sent.
//!
//! Every change, from the API or from the file watcher, goes through one lock, so an API
//! change cannot be undone by a reload that read the file a moment before it was written.

use crate::app::{App, Changes};
use crate::config::{self, ConfigError, Located};
use crate::reload::ReloadLog;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;

pub struct ConfigStore {
    path: PathBuf,
    lock: Mutex<()>,
    /// SHA-256 of the file text last read, applied or not. The watcher compares the file
    /// with this, not with what it saw itself, so a change made between the first load
    /// and the watcher's start is not mistaken for the baseline.
    seen: std::sync::Mutex<Option<[u8; 32]>>,
    pub log: Arc<ReloadLog>,
}

/// Why an API change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{0}")]
    Invalid(#[from] ConfigError),
    #[error("the change was applied but could not be written to {path}: {error}")]
    Persist { path: String, error: std::io::Error },
}

impl ConfigStore {
    pub fn new(path: PathBuf, log: Arc<ReloadLog>) -> ConfigStore {
        ConfigStore {
            path,
            lock: Mutex::new(()),
            seen: std::sync::Mutex::new(None),
            log,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and parses the file, remembering its digest.
    pub fn load(&self) -> Result<Vec<Located>, ConfigError> {
        let origin = self.path.display().to_string();
        let text = std::fs::read_to_string(&self.path).map_err(|e| ConfigError {
            origin: origin.clone(),
            line: None,
            object: None,
            field: None,
            message: format!("cannot read the file: {e}"),
        })?;
        *self.seen.lock().expect("digest lock") = Some(Sha256::digest(text.as_bytes()).into());
        config::parse_str(&text, &origin)
    }

    /// The digest of the file text last read.
    pub fn seen(&self) -> Option<[u8; 32]> {
        *self.seen.lock().expect("digest lock")
    }

    /// Reads the file again and applies it (the watcher's path).
    pub async fn reload(&self, app: &App, changed_files: &HashSet<PathBuf>) -> Result<Changes, ConfigError> {
        let _serialised = self.lock.lock().await;
        let outcome = match self.load() {
            Ok(objects) => app.apply(objects, changed_files).await,
            Err(e) => Err(e),
        };
        self.log.record("file", &outcome);
        outcome
    }

    /// Applies `edit` to the running objects, then writes the result to the file. An
    /// edit that returns None (the object is missing, the name is taken) changes nothing.
    pub async fn change(
        &self,
        app: &App,
        edit: impl FnOnce(Vec<Located>) -> Option<Vec<Located>>,
    ) -> Result<Option<Changes>, ChangeError> {
        let _serialised = self.lock.lock().await;
        let Some(objects) = edit(app.objects().await) else {
            return Ok(None);
        };
        let outcome = app.apply(objects, &HashSet::new()).await;
        self.log.record("api", &outcome);
        let changes = outcome?;
        let text = config::to_file_text(&app.objects().await);
        write_atomically(&self.path, &text).map_err(|error| ChangeError::Persist {
            path: self.path.display().to_string(),
            error,
        })?;
        Ok(Some(changes))
    }
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.weir-tmp"));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}
