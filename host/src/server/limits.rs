//! Limits on what a client may send, set explicitly rather than left to library
//! defaults, so they are documented and stable across upgrades.
//!
//! | limit | value | what the client gets |
//! |---|---|---|
//! | request head (line + headers) | 64 KiB | 431 |
//! | header count | 100 | 431 |
//! | request line (HTTP/1.1) | the head limit: 64 KiB without a line end | 414 |
//! | time to send a full request head, and idle time between requests | `keepAliveTimeout` (60 s) | connection closed |
//! | TLS handshake | 10 s | connection closed |
//! | HTTP/2 header list | 64 KiB | stream reset |
//! | HTTP/2 concurrent streams per connection | 256 | stream refused |
//! | request body | `clientMaxBodySize` (4 MiB) | 413 |
//!
//! Malformed HTTP/1.1 heads (conflicting `Content-Length`, a `Transfer-Encoding` that
//! does not end in `chunked`, NUL/CR/LF in header values) are refused with 400 and the
//! connection closed, and so is a request carrying both `Content-Length` and
//! `Transfer-Encoding`: see `h1/request_head.rs`. A bad chunk size inside a body fails
//! the body, which is 400 when the body is read before the pipeline runs.

use std::time::Duration;

pub const MAX_HEAD_BYTES: usize = 64 * 1024;
pub const MAX_HEADERS: usize = 100;
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
pub const H2_MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 256;
