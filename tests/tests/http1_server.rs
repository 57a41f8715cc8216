//! Weir's own HTTP/1.1 server, spoken to byte by byte: pipelined requests, request
//! bodies in both framings, `Expect: 100-continue`, HTTP/1.0 clients, and connections
//! that stay usable after a refused request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use weir_tests::net::closed_within;
use weir_tests::raw_front::RawFront;

fn bodies_received(f: &RawFront) -> Vec<String> {
    f.backend.requests().into_iter().map(|r| r.body).collect()
}

/// The status line of every response in `answer`, in order. Responses follow their
/// bodies without a line break, so they are found by their start.
fn status_lines(answer: &str) -> Vec<&str> {
    answer
        .match_indices("HTTP/1.1 ")
        .map(|(at, _)| answer[at..].split("\r\n").next().unwrap_or(""))
        .collect()
}

/// Reads from `stream` until `text` has arrived, and returns all that was read.
fn read_until(stream: &mut TcpStream, text: &str) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(text) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let f = RawFront::start("").await;
    let answer = f.send(
        "GET /one HTTP/1.1\r\nHost: x\r\n\r\n\
         POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
         GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_lines(&answer), ["HTTP/1.1 200 OK"; 3], "{answer}");
    let (one, two, three) = (
        answer.find("\"/one\"").unwrap(),
        answer.find("\"/two\"").unwrap(),
        answer.find("\"/three\"").unwrap(),
    );
    assert!(one < two && two < three, "answers in request order: {answer}");
    assert!(
        answer.contains("connection: close"),
        "the last answer says the end: {answer}"
    );
    assert_eq!(bodies_received(&f), ["", "abc", ""]);
}

#[tokio::test(flavor = "multi_thread")]
async fn chunked_request_bodies_are_decoded_buffered_and_streamed() {
    for limit in ["", "clientMaxBodySize: -1"] {
        let f = RawFront::start(limit).await;
        let answer = f.send(
            "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
             5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        );
        assert_eq!(status_lines(&answer), ["HTTP/1.1 200 OK"], "{limit}: {answer}");
        assert_eq!(bodies_received(&f), ["hello world"], "{limit}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn expect_continue_is_answered_only_when_the_body_is_wanted() {
    let f = RawFront::start("clientMaxBodySize: 100").await;
    let mut stream = TcpStream::connect(f.addr).unwrap();
    stream
        .write_all(b"PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let interim = read_until(&mut stream, "\r\n\r\n");
    assert_eq!(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"hello").unwrap();
    let answer = read_until(&mut stream, "\"hello\"");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert_eq!(bodies_received(&f), ["hello"]);

    // Too large by its declared length: refused at once, and the client is not told to
    // send the body.
    let answer = f.send("PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(status_lines(&answer), ["HTTP/1.1 413 Payload Too Large"], "{answer}");
    assert_eq!(f.backend.received(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn http_1_0_clients_keep_the_connection_only_when_they_ask() {
    let f = RawFront::start("").await;
    let answer = f.send("GET /old HTTP/1.0\r\n\r\n");
    assert_eq!(status_lines(&answer), ["HTTP/1.1 200 OK"], "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");

    let answer = f.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    assert_eq!(status_lines(&answer), ["HTTP/1.1 200 OK"; 2], "{answer}");
    assert!(answer.contains("connection: keep-alive"), "{answer}");
    assert_eq!(f.backend.received(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_body_that_already_arrived_leaves_the_connection_usable() {
    let f = RawFront::start("clientMaxBodySize: 3").await;
    let answer = f.send(
        "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
         GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        status_lines(&answer),
        ["HTTP/1.1 413 Payload Too Large", "HTTP/1.1 200 OK"],
        "{answer}"
    );
    let uris: Vec<String> = f.backend.requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(uris, ["/after"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_still_arriving_when_refused_ends_the_connection_after_the_answer() {
    let f = RawFront::start("clientMaxBodySize: 3").await;
    let mut stream = TcpStream::connect(f.addr).unwrap();
    stream
        .write_all(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npart of it")
        .unwrap();
    let answer = read_until(&mut stream, "\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 413 Payload Too Large"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    // More of the body is still taken (and dropped), then the server closes.
    stream.write_all(&[b'x'; 4096]).unwrap();
    assert!(
        closed_within(&mut stream, Duration::from_secs(5)),
        "the connection stayed open after the answer"
    );
    assert_eq!(f.backend.received(), 0);
}
