//! Validator's `oauth2` rule end to end: token introspection (RFC 7662) against a real
//! introspection endpoint, reached through the host's outbound call, which only lets
//! the filter reach the configured `endPoint`.

use http_body_util::BodyExt;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use weir_tests::net::{client, free_port};
use weir_tests::yaml::validator_then_proxy;
use weir_tests::{Backend, Weir};

/// An introspection endpoint: `token=good` from client `weir:s3cret` is active.
/// Records each form body it got, with the Authorization header.
async fn introspection() -> (String, Arc<Mutex<Vec<(String, String)>>>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/introspect", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let task = tokio::spawn(async move {
        // Connections live in this task's set, so aborting the task closes them too
        // (a pooled keep-alive connection would otherwise outlive the "down" server).
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let record = record.clone();
                    async move {
                        let auth = req
                            .headers()
                            .get("authorization")
                            .map(|v| v.to_str().unwrap().to_string())
                            .unwrap_or_default();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let body = String::from_utf8_lossy(&body).into_owned();
                        // "weir:s3cret" in base64.
                        let active = auth == "Basic d2VpcjpzM2NyZXQ=" && body.starts_with("token=good&");
                        record.lock().unwrap().push((body, auth));
                        let answer = format!(r#"{{"active":{active}}}"#);
                        Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(bytes::Bytes::from(
                            answer,
                        ))))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    (url, seen, task)
}

#[tokio::test]
async fn introspection_lets_active_tokens_through_and_answers_401_otherwise() {
    let (endpoint, seen, task) = introspection().await;
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = validator_then_proxy(
        port,
        &format!(
            "    oauth2:\n      tokenIntrospect:\n        endPoint: {endpoint}\n        clientId: weir\n        clientSecret: s3cret\n"
        ),
        &backend.url(),
    );
    let _weir = Weir::start(&config, &[port]);
    let client = client();
    let send = |auth: Option<&'static str>| {
        let mut request = client.get(format!("http://127.0.0.1:{port}/"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(send(Some("Bearer good")).await.0, 200);
    assert_eq!(send(Some("Bearer revoked")).await, (401, String::new()));
    assert_eq!(send(None).await.0, 401, "no token: refused without asking");
    assert_eq!(backend.hits(), 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "token=good&token_type_hint=access_token");
    assert_eq!(seen[1].0, "token=revoked&token_type_hint=access_token");

    // With the endpoint down, no token is taken as active.
    task.abort();
    let _ = task.await;
    assert_eq!(send(Some("Bearer good")).await.0, 401);
}
