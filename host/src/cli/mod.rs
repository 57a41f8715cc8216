//! The CLI commands that talk to a running Weir through its admin API (like egctl), and
//! the offline `validate`.

mod client;

use crate::config::{self, ObjectSpec};
use anyhow::{bail, Context as _};
use client::AdminClient;
use http::{Method, StatusCode};
use std::io::Read;
use std::path::Path;

/// Where the admin API is, and how to authenticate.
pub struct Target {
    pub server: String,
    pub token: Option<String>,
}

impl Target {
    fn client(&self) -> AdminClient {
        AdminClient::new(&self.server, self.token.clone())
    }
}

/// `weir apply -f FILE|-`: creates each object, or updates it if it exists.
pub async fn apply(target: &Target, file: &str) -> anyhow::Result<()> {
    let (origin, text) = read_input(file)?;
    let objects = config::parse_str(&text, &origin)?;
    let client = target.client();
    for object in objects {
        let name = object.spec.name().to_string();
        let label = object.spec.label();
        let exists = client
            .send(
                Method::GET,
                &format!("/apis/v2/objects/{name}"),
                "application/json",
                None,
            )
            .await?;
        let answer = if exists.status == StatusCode::NOT_FOUND {
            client
                .send(
                    Method::POST,
                    "/apis/v2/objects",
                    "application/json",
                    Some(object.source.clone()),
                )
                .await?
        } else {
            client
                .send(
                    Method::PUT,
                    &format!("/apis/v2/objects/{name}"),
                    "application/json",
                    Some(object.source.clone()),
                )
                .await?
        };
        if !answer.status.is_success() {
            // The server's message already names the object and the field.
            bail!("{}", answer.body.trim());
        }
        println!("{label}: {}", answer.body.trim());
    }
    Ok(())
}

/// `weir get KIND [NAME] [-o yaml|json]`.
pub async fn get(target: &Target, kind: &str, name: Option<&str>, output: &str) -> anyhow::Result<()> {
    let kind = canonical_kind(kind)?;
    let accept = if output == "json" {
        "application/json"
    } else {
        "application/yaml"
    };
    let client = target.client();
    let answer = match name {
        Some(name) => {
            let answer = client
                .send(Method::GET, &format!("/apis/v2/objects/{name}"), accept, None)
                .await?;
            check(&answer)?;
            let value: serde_yaml::Value = serde_yaml::from_str(&answer.body)?;
            if value.get("kind").and_then(|k| k.as_str()) != Some(kind) {
                bail!("{name:?} is not a {kind}");
            }
            answer.body
        }
        None => {
            let answer = client
                .send(Method::GET, "/apis/v2/objects", "application/json", None)
                .await?;
            check(&answer)?;
            let all: Vec<serde_json::Value> = serde_json::from_str(&answer.body)?;
            let of_kind: Vec<_> = all
                .into_iter()
                .filter(|o| o.get("kind").and_then(|k| k.as_str()) == Some(kind))
                .collect();
            if output == "json" {
                serde_json::to_string_pretty(&of_kind)?
            } else {
                serde_yaml::to_string(&of_kind)?
            }
        }
    };
    println!("{}", answer.trim_end());
    Ok(())
}

/// `weir describe KIND NAME`: the spec and the live status.
pub async fn describe(target: &Target, kind: &str, name: &str) -> anyhow::Result<()> {
    let kind = canonical_kind(kind)?;
    let client = target.client();
    let spec = client
        .send(
            Method::GET,
            &format!("/apis/v2/objects/{name}"),
            "application/yaml",
            None,
        )
        .await?;
    check(&spec)?;
    let value: serde_yaml::Value = serde_yaml::from_str(&spec.body)?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(kind) {
        bail!("{name:?} is not a {kind}");
    }
    let status = client
        .send(
            Method::GET,
            &format!("/apis/v2/status/objects/{name}"),
            "application/yaml",
            None,
        )
        .await?;
    check(&status)?;
    println!("spec:\n{}", indent(&spec.body));
    println!("status:\n{}", indent(&status.body));
    Ok(())
}

/// `weir delete KIND NAME`.
pub async fn delete(target: &Target, kind: &str, name: &str) -> anyhow::Result<()> {
    let kind = canonical_kind(kind)?;
    let client = target.client();
    let current = client
        .send(
            Method::GET,
            &format!("/apis/v2/objects/{name}"),
            "application/json",
            None,
        )
        .await?;
    check(&current)?;
    let value: serde_json::Value = serde_json::from_str(&current.body)?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(kind) {
        bail!("{name:?} is not a {kind}");
    }
    let answer = client
        .send(
            Method::DELETE,
            &format!("/apis/v2/objects/{name}"),
            "application/json",
            None,
        )
        .await?;
    check(&answer)?;
    println!("{}", answer.body.trim());
    Ok(())
}

/// `weir validate -f FILE|-`: the checks `weir run` makes, without serving (ports are not
/// bound and health checks do not run).
pub fn validate(file: &str) -> anyhow::Result<()> {
    let (origin, text) = read_input(file)?;
    let objects = config::parse_str(&text, &origin)?;
    let config_dir = Path::new(file).parent().map(Path::to_path_buf).unwrap_or_default();
    let kinds = crate::pipeline::FilterKinds::builtin();
    let registry = crate::registry::PipelineRegistry::default();
    for object in &objects {
        match &object.spec {
            ObjectSpec::Pipeline(spec) => {
                let ctx = crate::pipeline::BuildContext::new(spec.name.clone(), config_dir.clone());
                crate::pipeline::Pipeline::build(spec, &kinds, &ctx).map_err(|e| object.error(e))?;
            }
            ObjectSpec::HttpServer(spec) => {
                crate::server::HttpServer::build(spec, &registry).map_err(|e| object.error(e))?;
            }
        }
    }
    println!("{origin}: {} objects, all valid", objects.len());
    Ok(())
}

fn read_input(file: &str) -> anyhow::Result<(String, String)> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(("-".into(), text));
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
    Ok((file.to_string(), text))
}

fn check(answer: &client::Answer) -> anyhow::Result<()> {
    if answer.status.is_success() {
        Ok(())
    } else {
        bail!("{} ({})", answer.body.trim(), answer.status)
    }
}

/// Accepts the kind names and their common short forms.
fn canonical_kind(kind: &str) -> anyhow::Result<&'static str> {
    match kind.to_ascii_lowercase().as_str() {
        "httpserver" | "httpservers" | "hs" => Ok("HTTPServer"),
        "pipeline" | "pipelines" | "pl" => Ok("Pipeline"),
        _ => bail!("unknown kind {kind:?} (known: HTTPServer, Pipeline)"),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
