//! Easegress's three API-aggregation examples, run from `examples/aggregation/` as
//! written (only the backend addresses and the port change) over three real backends
//! that answer the docs' JSON bodies, one of them down for the failure example.

use std::convert::Infallible;
use std::net::SocketAddr;
use weir_tests::net::{client, free_port};
use weir_tests::Weir;

/// A backend answering every request with one JSON body, as the docs' demo1..3 do.
struct JsonBackend {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl JsonBackend {
    async fn start(body: &'static str) -> JsonBackend {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_req| async move {
                        let mut response =
                            http::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(body.as_bytes())));
                        response
                            .headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(response)
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        JsonBackend { addr, task }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }
}

impl Drop for JsonBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The example file with its backends and port replaced.
fn example(file: &str, urls: [&str; 3], port: u16) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/aggregation/");
    let text = std::fs::read_to_string(format!("{path}{file}")).unwrap();
    text.replace("http://127.0.0.1:9091", urls[0])
        .replace("http://127.0.0.1:9092", urls[1])
        .replace("http://127.0.0.1:9093", urls[2])
        .replace("port: 10080", &format!("port: {port}"))
}

async fn backends() -> [JsonBackend; 3] {
    [
        JsonBackend::start(r#"{"mega":"ease"}"#).await,
        JsonBackend::start(r#"{"hello":"world"}"#).await,
        JsonBackend::start(r#"{"hello":"new world"}"#).await,
    ]
}

async fn get(port: u16) -> (u16, String) {
    let client = client();
    let response = client.get(format!("http://127.0.0.1:{port}/api")).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn example_1_aggregates_three_bodies_in_order() {
    let b = backends().await;
    let port = free_port();
    let _weir = Weir::start(
        &example("aggregate.yaml", [&b[0].url(), &b[1].url(), &b[2].url()], port),
        &[port],
    );
    let (status, body) = get(port).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "[{\"mega\":\"ease\"}, {\"hello\":\"world\"}, {\"hello\":\"new world\"}]\n"
    );
}

#[tokio::test]
async fn example_2_merges_json_bodies_later_keys_winning() {
    let b = backends().await;
    let port = free_port();
    let _weir = Weir::start(
        &example("merge-json.yaml", [&b[0].url(), &b[1].url(), &b[2].url()], port),
        &[port],
    );
    let (status, body) = get(port).await;
    assert_eq!(status, 200);
    let merged: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(merged, serde_json::json!({"hello": "new world", "mega": "ease"}));
}

#[tokio::test]
async fn example_3_leaves_out_a_backend_that_is_down() {
    let b = backends().await;
    // Nothing listens on this port: demo1 is down and its Proxy fails with serverError.
    let down = format!("http://127.0.0.1:{}", free_port());
    let port = free_port();
    let _weir = Weir::start(
        &example("handle-failures.yaml", [&down, &b[1].url(), &b[2].url()], port),
        &[port],
    );
    let (status, body) = get(port).await;
    assert_eq!(status, 200);
    assert_eq!(body.trim_end(), r#"[{"hello":"world"},{"hello":"new world"}]"#);
}

#[tokio::test]
async fn example_3_answers_503_when_every_backend_is_down() {
    let down: Vec<String> = (0..3).map(|_| format!("http://127.0.0.1:{}", free_port())).collect();
    let port = free_port();
    // The second Proxy has no jumpIf, so its failure ends the flow (Easegress's implicit
    // END) before the ResponseBuilder: namespace DEFAULT has no response, hence 503.
    let _weir = Weir::start(
        &example("handle-failures.yaml", [&down[0], &down[1], &down[2]], port),
        &[port],
    );
    let (status, _) = get(port).await;
    assert_eq!(status, 503);
}
