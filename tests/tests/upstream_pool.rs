//! Keep-alive connections to plain-HTTP backends: a connection goes back to the pool
//! only once its response has been read to the end, a half-read one is not reused, and
//! a backend that closes connections costs no request.

use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use weir_tests::net::{client, free_port, raw_backend};
use weir_tests::yaml::front_and_proxy;
use weir_tests::{Backend, Weir};

#[tokio::test]
async fn a_streamed_megabyte_hands_its_connection_back_once_read() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let _weir = Weir::start(&front_and_proxy(port, &backend.url()), &[port]);
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");

    for _ in 0..5 {
        let big = client
            .get(&url)
            .header("x-backend-body-size", "1048576")
            .send()
            .await
            .unwrap();
        assert_eq!(big.status(), 200);
        assert_eq!(big.bytes().await.unwrap().len(), 1 << 20);
        let small = client.get(&url).send().await.unwrap();
        assert_eq!(small.status(), 200);
        small.bytes().await.unwrap();
    }
    // Ten sequential exchanges: had any connection not come back, each large response
    // would have left one behind and forced a new one.
    assert_eq!(backend.hits(), 10);
    assert!(backend.connections() <= 2, "{} connections", backend.connections());
}

#[tokio::test]
async fn a_response_abandoned_half_read_does_not_spoil_the_next_requests() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let _weir = Weir::start(&front_and_proxy(port, &backend.url()), &[port]);
    let url = format!("http://127.0.0.1:{port}/");

    // A raw client asks for 4 MiB, reads the head and a little, and hangs up.
    // (Async sockets: the backend runs on this test's runtime.)
    for _ in 0..3 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        socket
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nx-backend-body-size: 4194304\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 1024];
        let n = socket.read(&mut first).await.unwrap();
        assert!(
            first[..n].starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&first[..n])
        );
        drop(socket);
    }

    let client = client();
    for _ in 0..20 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-backend"], "b");
        let echoed: serde_json::Value = response.json().await.unwrap();
        assert_eq!(echoed["uri"], "/");
    }
}

/// A backend that answers each request with `Connection: close` and then closes: every
/// pooled connection goes stale right away.
fn start_closing_backend() -> (u16, Arc<AtomicUsize>) {
    raw_backend(|mut stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        // The request head ends with an empty line; these requests have no body.
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if line == "\r\n" {
                break;
            }
            line.clear();
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nclosed");
    })
}

#[tokio::test]
async fn a_backend_that_closes_every_connection_still_answers_every_request() {
    let (backend_port, accepted) = start_closing_backend();
    let port = free_port();
    let _weir = Weir::start(
        &front_and_proxy(port, &format!("http://127.0.0.1:{backend_port}")),
        &[port],
    );
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");
    for n in 1..=30 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "request {n}");
        assert_eq!(response.text().await.unwrap(), "closed");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 30, "one connection per request");
}
