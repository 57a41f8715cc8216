//! `/apis/v2/objects`: create, read, update and delete configuration objects.
//!
//! | request | success | failure |
//! |---|---|---|
//! | `POST /objects` (one object, YAML or JSON) | 201 | 409 name taken, 400 invalid |
//! | `GET /objects`, `GET /objects/{name}` | 200 | 404 |
//! | `PUT /objects/{name}` | 200 | 404 missing, 400 invalid, other kind or name |
//! | `DELETE /objects/{name}` | 200 | 404 |
//!
//! A change is validated and applied like a file change (all or nothing), then written
//! to the configuration file.

use super::format::{self, AdminResponse, Format};
use super::Admin;
use crate::config::{self, Located};
use crate::store::ChangeError;
use http::StatusCode;

pub async fn list(admin: &Admin, format: Format) -> AdminResponse {
    let objects: Vec<serde_yaml::Value> = admin.app.objects().await.into_iter().map(|o| o.raw).collect();
    format::value(StatusCode::OK, format, &objects)
}

pub async fn get(admin: &Admin, name: &str, format: Format) -> AdminResponse {
    match admin.app.objects().await.into_iter().find(|o| o.spec.name() == name) {
        Some(object) => format::value(StatusCode::OK, format, &object.raw),
        None => not_found(name),
    }
}

pub async fn create(admin: &Admin, body: &[u8]) -> AdminResponse {
    let object = match parse_one(body) {
        Ok(object) => object,
        Err(message) => return format::message(StatusCode::BAD_REQUEST, message),
    };
    let name = object.spec.name().to_string();
    let mut taken = false;
    let outcome = admin
        .store
        .change(&admin.app, |mut objects| {
            taken = objects.iter().any(|o| o.spec.name() == name);
            objects.push(object);
            (!taken).then_some(objects)
        })
        .await;
    if taken {
        return format::message(
            StatusCode::CONFLICT,
            format!("an object named {name:?} already exists; use PUT to change it"),
        );
    }
    finish(outcome, StatusCode::CREATED, &format!("created {name}"))
}

pub async fn update(admin: &Admin, name: &str, body: &[u8]) -> AdminResponse {
    let object = match parse_one(body) {
        Ok(object) => object,
        Err(message) => return format::message(StatusCode::BAD_REQUEST, message),
    };
    if object.spec.name() != name {
        let message = format!("the body names {:?} but the URL names {name:?}", object.spec.name());
        return format::message(StatusCode::BAD_REQUEST, message);
    }
    let mut missing = false;
    let mut other_kind = None;
    let outcome = admin
        .store
        .change(&admin.app, |mut objects| {
            match objects.iter_mut().find(|o| o.spec.name() == name) {
                None => missing = true,
                Some(current) if current.spec.kind() != object.spec.kind() => other_kind = Some(current.spec.kind()),
                Some(current) => *current = object,
            }
            (!missing && other_kind.is_none()).then_some(objects)
        })
        .await;
    if missing {
        return not_found(name);
    }
    if let Some(kind) = other_kind {
        return format::message(
            StatusCode::BAD_REQUEST,
            format!("{name:?} is a {kind}; delete it to change its kind"),
        );
    }
    finish(outcome, StatusCode::OK, &format!("updated {name}"))
}

pub async fn delete(admin: &Admin, name: &str) -> AdminResponse {
    let mut missing = false;
    let outcome = admin
        .store
        .change(&admin.app, |mut objects| {
            let before = objects.len();
            objects.retain(|o| o.spec.name() != name);
            missing = objects.len() == before;
            (!missing).then_some(objects)
        })
        .await;
    if missing {
        return not_found(name);
    }
    finish(outcome, StatusCode::OK, &format!("deleted {name}"))
}

/// The single object in a request body (YAML or JSON; JSON is YAML too).
/// Its errors are all 400s, so it returns the message alone.
fn parse_one(body: &[u8]) -> Result<Located, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let mut objects = config::parse_str(text, "request body").map_err(|e| e.to_string())?;
    if objects.len() != 1 {
        return Err(format!("send exactly one object per request (got {})", objects.len()));
    }
    let mut object = objects.remove(0);
    // JSON bodies are written to the file as YAML, so the file stays one format.
    if text.trim_start().starts_with('{') {
        object.source = serde_yaml::to_string(&object.raw).unwrap_or_default();
    }
    Ok(object)
}

fn finish(outcome: Result<Option<crate::app::Changes>, ChangeError>, status: StatusCode, done: &str) -> AdminResponse {
    match outcome {
        Ok(_) => format::message(status, done),
        Err(ChangeError::Invalid(e)) => format::message(StatusCode::BAD_REQUEST, e),
        Err(e @ ChangeError::Persist { .. }) => format::message(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

fn not_found(name: &str) -> AdminResponse {
    format::message(StatusCode::NOT_FOUND, format!("no object is named {name:?}"))
}
