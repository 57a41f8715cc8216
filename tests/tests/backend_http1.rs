//! Weir's own HTTP/1.1 client against a backend that answers with hand-written bytes:
//! every way RFC 9112 frames a response body, interim responses, a malformed head, and
//! a keep-alive connection the backend drops while it sits idle in the pool.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;
use weir_tests::net::{client, free_port, raw_backend, raw_exchange, wait_until};
use weir_tests::yaml::{front, front_and_pipeline, front_and_proxy};
use weir_tests::Weir;

/// The bytes the backend writes for a request path, and whether it then closes.
fn script(path: &str) -> (&'static [u8], bool) {
    match path {
        "/chunked" => (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            false,
        ),
        "/until-close" => (b"HTTP/1.1 200 OK\r\n\r\nuntil the backend closes", true),
        "/no-content" => (b"HTTP/1.1 204 No Content\r\n\r\n", false),
        "/interim" => (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
            false,
        ),
        "/malformed" => (b"HTTP/1.1 two hundred\r\n\r\n", true),
        "/headers" => (
            b"HTTP/1.1 200 OK\r\nX-Mixed-Case: v\r\nSet-Cookie: a=1\r\nConnection: keep-alive, X-Hop\r\n\
              X-Hop: secret\r\nKeep-Alive: timeout=5\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nX-Empty:\r\n\
              X-Spaced:   two  \r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok",
            false,
        ),
        // Keep-alive by every sign, but the backend drops the connection soon after.
        "/then-drop" => (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ndropped", true),
        _ => (b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello, weir!", false),
    }
}

/// Serves one connection of the backend speaking from `script`.
fn serve(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (bytes, close) = if method == "HEAD" {
            (&b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"[..], false)
        } else {
            script(&path)
        };
        if stream.write_all(bytes).is_err() {
            return;
        }
        if close {
            if path == "/then-drop" {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
    }
}

fn weir_in_front(backend_port: u16) -> (Weir, String) {
    let port = free_port();
    let weir = Weir::start(
        &front_and_proxy(port, &format!("http://127.0.0.1:{backend_port}")),
        &[port],
    );
    (weir, format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn every_body_framing_arrives_whole_and_keep_alive_connections_are_reused() {
    let (backend, accepted) = raw_backend(serve);
    let (_weir, url) = weir_in_front(backend);
    let client = client();

    for _ in 0..3 {
        let chunked = client.get(format!("{url}/chunked")).send().await.unwrap();
        assert_eq!(chunked.status(), 200);
        assert_eq!(chunked.text().await.unwrap(), "hello world");

        let plain = client.get(format!("{url}/plain")).send().await.unwrap();
        assert_eq!(plain.text().await.unwrap(), "hello, weir!");

        let head = client.head(format!("{url}/plain")).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"], "42");

        let empty = client.get(format!("{url}/no-content")).send().await.unwrap();
        assert_eq!(empty.status(), 204);

        let interim = client.get(format!("{url}/interim")).send().await.unwrap();
        assert_eq!(interim.status(), 200);
        assert_eq!(interim.text().await.unwrap(), "final");

        let posted = client
            .post(format!("{url}/plain"))
            .body("a body of some length")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.text().await.unwrap(), "hello, weir!");
    }
    // Eighteen exchanges, one after another, each framed so that the connection could
    // carry the next: one connection served them all.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_delimited_by_the_close_arrives_whole_on_a_fresh_connection_each_time() {
    let (backend, accepted) = raw_backend(serve);
    let (_weir, url) = weir_in_front(backend);
    let client = client();
    for _ in 0..3 {
        let response = client.get(format!("{url}/until-close")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "until the backend closes");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_malformed_response_head_is_a_server_error_and_weir_carries_on() {
    let (backend, _) = raw_backend(serve);
    let (_weir, url) = weir_in_front(backend);
    let client = client();
    let response = client.get(format!("{url}/malformed")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let after = client.get(format!("{url}/plain")).send().await.unwrap();
    assert_eq!(after.text().await.unwrap(), "hello, weir!");
}

/// POST, because it is not retried: had a dropped connection been taken from the pool
/// and written to, the request would fail rather than be sent again on a new one.
#[tokio::test]
async fn a_pooled_connection_the_backend_dropped_is_not_used_again() {
    let (backend, accepted) = raw_backend(serve);
    let (_weir, url) = weir_in_front(backend);
    let client = client();
    for n in 1..=5 {
        let response = client
            .post(format!("{url}/then-drop"))
            .body("not to be sent twice")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "request {n}");
        assert_eq!(response.text().await.unwrap(), "dropped");
        // Let the backend's close reach Weir while the connection sits in the pool.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
}

/// The backend's header lines reach the client as sent, less the hop-by-hop ones, over
/// both HTTP versions and in the access log, though no filter asked for them (Weir
/// keeps them unparsed until someone does: `host/src/http/raw_headers.rs`).
#[tokio::test]
async fn backend_header_lines_reach_every_kind_of_reader() {
    let (backend, _) = raw_backend(serve);
    let (port, logged) = (free_port(), free_port());
    // A second server whose access log shows response headers: it needs them parsed.
    let config = format!(
        "{}---\n{}",
        front_and_proxy(port, &format!("http://127.0.0.1:{backend}")),
        front(logged, "main").replace("name: front", "name: logged").replacen(
            "rules:",
            "accessLogFormat: \"resp {{RespHeaders}}\"\nrules:",
            1
        )
    );
    let weir = Weir::start(&config, &[port, logged]);

    // HTTP/1.1: the lines as the backend wrote them, in its order and case.
    let answer = exchange(port, b"GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert_eq!(body, "ok");
    let lines: Vec<&str> = head.lines().collect();
    assert_eq!(
        lines,
        [
            "HTTP/1.1 200 OK",
            "X-Mixed-Case: v",
            "Set-Cookie: a=1",
            "Date: Sun, 06 Nov 1994 08:49:37 GMT",
            "X-Empty: ",
            "X-Spaced: two",
            "Set-Cookie: b=2",
            "content-length: 2",
            "connection: close",
        ]
    );

    // HTTP/2: the same headers, through hyper's header map.
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = h2.get(format!("http://127.0.0.1:{port}/headers")).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let headers = response.headers();
    assert_eq!(headers["x-mixed-case"], "v");
    let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(headers["date"], "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(headers["x-spaced"], "two");
    assert_eq!(headers["content-length"], "2");
    for hop in ["x-hop", "keep-alive", "connection"] {
        assert!(!headers.contains_key(hop), "{hop} was passed on");
    }
    assert_eq!(response.text().await.unwrap(), "ok");

    // The access log's {{RespHeaders}}: every one, as a filter would read them; and
    // the client still gets them all.
    let response = client()
        .get(format!("http://127.0.0.1:{logged}/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-mixed-case"], "v");
    assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
    assert_eq!(response.text().await.unwrap(), "ok");
    assert!(
        wait_until(Duration::from_secs(5), || weir.stderr().contains("resp {")),
        "{}",
        weir.stderr()
    );
    let logged = weir.stderr();
    let line = logged.lines().find(|l| l.contains("resp {")).unwrap();
    assert!(line.contains(r#""x-mixed-case":"v""#), "{line}");
    assert!(line.contains(r#""set-cookie":"a=1, b=2""#), "{line}");
    assert!(line.contains(r#""content-length":"2""#), "{line}");
    assert!(!line.contains("x-hop"), "{line}");
}

/// A ResponseAdaptor's header edits on a backend's lines that no one else read: the
/// untouched lines pass exactly as the backend wrote them, the edited ones as edited.
#[tokio::test]
async fn response_header_edits_keep_the_backend_lines_they_do_not_touch() {
    let (backend, _) = raw_backend(serve);
    let port = free_port();
    let pipeline = format!(
        "flow:\n  - filter: proxy\n  - filter: adapt\nfilters:\n  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"http://127.0.0.1:{backend}\"}}]}}]\n  - name: adapt\n    kind: ResponseAdaptor\n    header:\n      del: [x-mixed-case, Date]\n      set: {{Set-Cookie: c=3}}\n      add: {{X-Empty: added}}\n"
    );
    let _weir = Weir::start(&front_and_pipeline(port, &pipeline), &[port]);

    let answer = exchange(port, b"GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert_eq!(body, "ok");
    let mut lines: Vec<&str> = head.lines().collect();
    // The backend's Date was removed, so Weir states its own, as for any response.
    assert!(!head.contains("1994"), "{head}");
    let date = lines.iter().position(|l| l.starts_with("date: ")).expect(head);
    lines.remove(date);
    assert_eq!(
        lines,
        [
            "HTTP/1.1 200 OK",
            "X-Empty: ",
            "X-Spaced: two",
            "set-cookie: c=3",
            "x-empty: added",
            "content-length: 2",
            "connection: close",
        ]
    );
}

/// Sends `request` to Weir on `port` on a new connection and returns everything it
/// answers until it closes (the request asks it to).
fn exchange(port: u16, request: &[u8]) -> String {
    raw_exchange(([127, 0, 0, 1], port).into(), request, Duration::from_secs(5))
}

// Several threads: the echo backend runs on this runtime while the test blocks.
#[tokio::test(flavor = "multi_thread")]
async fn streamed_request_bodies_reach_the_backend_whole() {
    let backend = weir_tests::Backend::start("b").await;
    let port = free_port();
    // A body limit of -1 streams request bodies to the backend instead of buffering.
    let config = front_and_proxy(port, &backend.url()).replacen("rules:", "clientMaxBodySize: -1\nrules:", 1);
    let _weir = Weir::start(&config, &[port]);

    // Chunked from the client: the length is unknown, so it goes on chunked.
    let mut chunked =
        String::from("POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n");
    for piece in ["first;", "second;", "third"] {
        chunked.push_str(&format!("{:x}\r\n{piece}\r\n", piece.len()));
    }
    chunked.push_str("0\r\n\r\n");
    let answer = exchange(port, chunked.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("first;second;third"), "{answer}");

    // A declared length is passed on as it is.
    let body = "x".repeat(100_000);
    let declared = format!(
        "POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(port, declared.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let recorded = backend.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].body, "first;second;third");
    // Streamed on, not buffered: its length was still unknown when it left Weir.
    assert_eq!(recorded[0].header("transfer-encoding"), Some("chunked"));
    assert_eq!(recorded[0].header("content-length"), None);
    assert_eq!(recorded[1].body.len(), 100_000);
    assert_eq!(recorded[1].header("content-length"), Some("100000"));
}
