//! The filter kinds backed by components: `kind: Wasm` (a module named in the YAML)
//! and the built-in kinds (`Validator`, `Mock`, …) whose components ship inside the
//! binary.

use super::builtins::Builtin;
use super::compiled::{load, Compiled};
use super::filter::WasmFilter;
use super::http_policy::HttpPolicy;
use super::instance::InstanceRecipe;
use super::shared_state::scope_for;
use super::spec::{BuiltinRuntime, RuntimeSettings, WasmSpec, HOST_KEYS};
use super::store_state::FilterIdentity;
use crate::config::{FieldError, FilterSpec};
use crate::pipeline::{BuildContext, BuiltFilter, FilterKind};
use std::sync::Arc;

/// Deserialises a spec, naming the field at fault.
fn parse<T: serde::de::DeserializeOwned>(value: serde_yaml::Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if path == "." {
            FieldError::whole(message)
        } else {
            FieldError::new(path, message)
        }
    })
}

/// Runs an async build step to completion from the synchronous `FilterKind::build`,
/// on a thread of its own so that it works inside or outside a Tokio runtime.
fn block_on<T: Send>(future: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime for building a filter")
                    .block_on(future)
            })
            .join()
            .expect("building a filter does not panic")
    })
}

/// Instantiates a compiled component as the named filter and runs its `init`.
/// `module` is the file it came from, if any, so a change to it rebuilds the pipeline.
fn build_filter(
    compiled: Arc<Compiled>,
    spec: &FilterSpec,
    ctx: &BuildContext,
    config_json: String,
    settings: RuntimeSettings,
    module: Option<std::path::PathBuf>,
) -> Result<BuiltFilter, FieldError> {
    let meter = crate::metrics::global()
        .filter(&ctx.pipeline, &spec.name, &spec.kind)
        .module_loaded(&compiled.sha256);
    let recipe = InstanceRecipe {
        compiled,
        identity: Arc::new(FilterIdentity {
            pipeline: ctx.pipeline.clone(),
            filter: spec.name.clone(),
        }),
        state: scope_for(&ctx.pipeline, &spec.name),
        http: Arc::new(HttpPolicy::new(settings.allowed_urls.clone())),
        config_json,
        max_memory: settings.max_memory,
        timeout: settings.timeout,
    };
    tracing::debug!(pipeline = %ctx.pipeline, filter = %spec.name, abi = recipe.compiled.abi, "building a WASM filter");
    let results = settings.results.clone();
    let filter =
        block_on(WasmFilter::build(recipe, settings, meter, module)).map_err(|e| FieldError::whole(e.to_string()))?;
    Ok(BuiltFilter {
        filter: Arc::new(filter),
        results,
    })
}

/// `kind: Wasm`.
pub struct WasmKind;

impl FilterKind for WasmKind {
    fn name(&self) -> &'static str {
        "Wasm"
    }

    fn build(&self, spec: &FilterSpec, ctx: &BuildContext) -> Result<BuiltFilter, FieldError> {
        let wasm: WasmSpec = parse(spec.spec.clone())?;
        let settings = wasm.settings()?;
        let path = ctx.config_dir.join(&wasm.module);
        let bytes = std::fs::read(&path)
            .map_err(|e| FieldError::new("module", format!("cannot read {}: {e}", path.display())))?;
        let compiled = load(&bytes).map_err(|e| FieldError::new("module", format!("{}: {e}", path.display())))?;
        let config_json = match &wasm.config {
            Some(config) => serde_json::to_string(config)
                .map_err(|e| FieldError::new("config", format!("cannot be written as JSON: {e}")))?,
            None => "null".to_string(),
        };
        build_filter(compiled, spec, ctx, config_json, settings, Some(path))
    }
}

/// Where a built-in kind may call out, read from its own spec: Validator's OAuth2
/// token introspection endpoint. Nothing else is reachable, as for a WASM filter with
/// no `allowedUrls`.
fn builtin_destinations(kind: &str, spec: &serde_yaml::Value) -> Vec<String> {
    match kind {
        "Validator" => spec
            .get("oauth2")
            .and_then(|o| o.get("tokenIntrospect"))
            .and_then(|t| t.get("endPoint"))
            .and_then(serde_yaml::Value::as_str)
            .map(|url| vec![url.to_string()])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Validator's `basicAuth.userFile` (relative to the configuration file): a filter
/// cannot read files, so the host reads it when the pipeline is built and passes its
/// text as `basicAuth.userFileContent`. A change to the file takes a reload.
fn read_user_file(config: &mut serde_yaml::Mapping, ctx: &BuildContext) -> Result<(), FieldError> {
    let Some(serde_yaml::Value::Mapping(basic)) = config.get_mut("basicAuth") else {
        return Ok(());
    };
    let Some(file) = basic.get("userFile").and_then(serde_yaml::Value::as_str) else {
        return Ok(());
    };
    let path = ctx.config_dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| FieldError::new("basicAuth.userFile", format!("cannot read {}: {e}", path.display())))?;
    basic.insert("userFileContent".into(), text.into());
    Ok(())
}

/// A built-in kind: its component is embedded, and its own YAML fields (all but the
/// runtime ones) are its config.
pub struct BuiltinKind(pub &'static Builtin);

impl FilterKind for BuiltinKind {
    fn name(&self) -> &'static str {
        self.0.kind
    }

    fn build(&self, spec: &FilterSpec, ctx: &BuildContext) -> Result<BuiltFilter, FieldError> {
        let runtime: BuiltinRuntime = {
            let mut only_runtime = serde_yaml::Mapping::new();
            if let serde_yaml::Value::Mapping(map) = &spec.spec {
                for key in &HOST_KEYS[2..] {
                    if let Some(value) = map.get(*key) {
                        only_runtime.insert((*key).into(), value.clone());
                    }
                }
            }
            parse(serde_yaml::Value::Mapping(only_runtime))?
        };
        let mut settings = runtime.settings(self.0.results)?;
        settings.guard = self.0.guard;
        settings.allowed_urls = builtin_destinations(self.0.kind, &spec.spec);
        let mut config = match &spec.spec {
            serde_yaml::Value::Mapping(map) => map.clone(),
            _ => serde_yaml::Mapping::new(),
        };
        for key in HOST_KEYS {
            config.remove(key);
        }
        if self.0.kind == "Validator" {
            read_user_file(&mut config, ctx)?;
        }
        let config_json = serde_json::to_string(&config)
            .map_err(|e| FieldError::whole(format!("the spec cannot be written as JSON: {e}")))?;
        let compiled = load(self.0.component)
            .map_err(|e| FieldError::whole(format!("the built-in component is unusable: {e}")))?;
        build_filter(compiled, spec, ctx, config_json, settings, None)
    }
}
