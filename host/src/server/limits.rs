//! Limits on what a client may send, set explicitly rather than left to library
//! defaults, so they are documented and stable across upgrades.
//!
//! | limit | value | what the client gets |
//! |---|---|---|
//! | request head (line + headers) | 64 KiB | 431 |
//! | header count | 100 | 431 |
//! | request line / URI | hyper's URI limit (65534 bytes) | 414 |
//! | time to send a full request head, and idle time between requests | `keepAliveTimeout` (60 s) | connection closed |
//! | TLS handshake | 10 s | connection closed |
//! | HTTP/2 header list | 64 KiB | stream reset |
//! | HTTP/2 concurrent streams per connection | 256 | stream refused |
//! | request body | `clientMaxBodySize` (4 MiB) | 413 |
//!
//! Malformed framing (bad chunk sizes, conflicting `Content-Length`, `Transfer-Encoding`
//! other than `chunked`, NUL/CR/LF in header values) is refused by hyper's parser with
//! 400 and the connection closed. A request carrying both `Content-Length` and
//! `Transfer-Encoding` is refused with 400 and the connection closed (see `framing.rs`).

use std::time::Duration;

pub const MAX_HEAD_BYTES: usize = 64 * 1024;
pub const MAX_HEADERS: usize = 100;
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
pub const H2_MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 256;
