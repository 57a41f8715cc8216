//! Graceful shutdown: on SIGTERM or SIGINT Weir stops accepting, lets requests in flight
//! finish, and exits 0.

use std::net::TcpStream;
use std::time::Duration;
use weir_tests::net::{client, free_port, wait_until, wait_until_async};
use weir_tests::{Backend, Weir};

fn config(port: u16, backend: &Backend) -> String {
    weir_tests::yaml::front_and_proxy(port, &backend.url())
}

async fn drains_on(signal: &str) {
    let backend = Backend::start("slow").await;
    let port = free_port();
    let mut weir = Weir::start(&config(port, &backend), &[port]);
    let client = client();
    let in_flight: Vec<_> = (0..3)
        .map(|_| {
            let request = client
                .get(format!("http://127.0.0.1:{port}/slow"))
                .header("x-backend-delay-ms", "1500");
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    assert!(wait_until_async(Duration::from_secs(5), || async { backend.received() == 3 }).await);

    weir.signal(signal);
    // New connections are refused while the old requests are still running.
    assert!(wait_until(Duration::from_secs(5), || TcpStream::connect((
        "127.0.0.1",
        port
    ))
    .is_err()));
    assert_eq!(backend.hits(), 0, "the slow requests are still in flight");

    for request in in_flight {
        assert_eq!(request.await.unwrap().expect("in-flight request completed"), 200);
    }
    let status = tokio::task::spawn_blocking(move || {
        let status = weir.wait_exit(Duration::from_secs(15));
        (status, weir.stderr())
    })
    .await
    .unwrap();
    assert_eq!(status.0.and_then(|s| s.code()), Some(0), "{}", status.1);
    assert!(status.1.contains("all requests finished"), "{}", status.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_requests_in_flight_then_exits_zero() {
    drains_on("TERM").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_drains_too() {
    drains_on("INT").await;
}
