//! Malformed HTTP/1 is refused with 400/413/431 and the connection closed; nothing of it
//! reaches a backend, and the server keeps serving everyone else.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use weir_tests::net::closed_within;
use weir_tests::raw_front::RawFront;

fn still_serves(f: &RawFront) {
    let answer = f.send("GET /healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicting_content_lengths_are_refused() {
    let f = RawFront::start("").await;
    let answer = f.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello");
    assert_eq!(status_line(&answer), "HTTP/1.1 400 Bad Request");
    assert_eq!(f.backend.received(), 0);
    still_serves(&f);
}

#[tokio::test(flavor = "multi_thread")]
async fn content_length_with_transfer_encoding_is_refused() {
    let f = RawFront::start("").await;
    // The classic smuggling attempt: a Content-Length that covers a second request hidden
    // in a chunked body. Both orders of the two headers are refused, on fresh connections
    // and after an ordinary request on the same connection.
    let hidden = "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    for headers in [
        "Content-Length: 40\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 40",
    ] {
        let attempt = format!("POST /first HTTP/1.1\r\nHost: x\r\n{headers}\r\n\r\n{hidden}");
        let answer = f.send(&attempt);
        assert_eq!(status_line(&answer), "HTTP/1.1 400 Bad Request", "{answer}");
        assert_eq!(
            answer.matches("HTTP/1.1 ").count(),
            1,
            "one response, then close: {answer}"
        );

        let after_ok = format!("POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi{attempt}");
        let answer = f.send(&after_ok);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("HTTP/1.1 400 Bad Request"), "{answer}");
    }
    let uris: Vec<String> = f.backend.requests().iter().map(|r| r.uri.clone()).collect();
    assert_eq!(uris, ["/ok", "/ok"], "only the ordinary requests reached the backend");
    still_serves(&f);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_chunk_sizes_are_refused_before_the_backend() {
    let f = RawFront::start("").await;
    let answer = f.send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    assert_eq!(status_line(&answer), "HTTP/1.1 400 Bad Request");
    let non_chunked = f.send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc");
    assert_eq!(status_line(&non_chunked), "HTTP/1.1 400 Bad Request");
    assert_eq!(f.backend.received(), 0);
    still_serves(&f);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_heads_get_431() {
    let f = RawFront::start("").await;
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let answer = f.send(&format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n"));
    assert_eq!(status_line(&answer), "HTTP/1.1 431 Request Header Fields Too Large");
    let huge = "a".repeat(100 * 1024);
    let answer = f.send(&format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {huge}\r\n\r\n"));
    assert_eq!(status_line(&answer), "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(f.backend.received(), 0);
    still_serves(&f);
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_header_values_are_refused() {
    let f = RawFront::start("").await;
    for value in ["a\0b", "a\rb", "bad\r\n value"] {
        let answer = f.send(&format!("GET / HTTP/1.1\r\nHost: x\r\nX-Evil: {value}\r\n\r\n"));
        assert_eq!(
            status_line(&answer),
            "HTTP/1.1 400 Bad Request",
            "value {value:?}: {answer}"
        );
    }
    let answer = f.send("GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n");
    assert_eq!(status_line(&answer), "HTTP/1.1 400 Bad Request");
    assert_eq!(f.backend.received(), 0);
    still_serves(&f);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_declared_body_gets_413_without_reading_it() {
    let f = RawFront::start("clientMaxBodySize: 100").await;
    let answer = f.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc");
    assert_eq!(status_line(&answer), "HTTP/1.1 413 Payload Too Large");
    assert_eq!(f.backend.received(), 0);
    still_serves(&f);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_hit_the_header_read_timeout() {
    let f = RawFront::start("keepAliveTimeout: 500ms").await;
    let mut slow = TcpStream::connect(f.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Partial: ").unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)),
        "a half-sent head kept the connection open"
    );

    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(f.addr).unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(10)),
        "an idle connection stayed open"
    );
    still_serves(&f);
}
