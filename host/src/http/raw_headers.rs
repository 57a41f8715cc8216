//! A backend response's header lines kept as they arrived, until something asks for
//! them as a `HeaderMap`.
//!
//! Most proxied responses go to the client without any filter reading their headers.
//! Building a `HeaderMap` for them (a name lookup, a value check, a hashed insert and a
//! reference count per line, then dropping it all) cost more than a quarter of a
//! proxied request's instructions, only for the response writer to turn the map back
//! into the same lines. So the HTTP/1.1 backend client keeps the lines it would have
//! passed on, in one buffer, in the response's extensions, and leaves the map empty.
//!
//! The rule that keeps this safe: whoever reads or edits a response's headers calls
//! [`into_map`] first. `Context::response_mut`, the access log and the HTTP/2 server do;
//! the HTTP/1.1 response writer is the one reader that takes the lines as they are.

use super::h1_head::{content_length, HeadCopy};
use bytes::Bytes;
use http::HeaderMap;

/// Header lines a backend sent, less the ones a proxy must not pass on.
#[derive(Debug, Clone)]
pub struct RawHeaders {
    /// `Name: value\r\n` lines, then the empty line that ends a head (so that the block
    /// parses as it is). A plain vector: it is written out once and dropped, and only
    /// becomes shared `Bytes` if someone asks for a header map.
    block: Vec<u8>,
    /// One of the lines is `Date`.
    has_date: bool,
    /// The length the backend declared. Its `Content-Length` line is not in `block`:
    /// the writer states the length of the body it actually sends.
    content_length: Option<u64>,
}

/// Collects the kept lines of one head into a [`RawHeaders`].
pub struct RawHeadersBuilder<'h> {
    /// The whole head, which httparse's lines point into.
    head: &'h [u8],
    block: Vec<u8>,
    /// Kept lines that lie next to each other in `head`, each ending in CRLF, not yet
    /// copied: a run is copied at once, so a typical head takes two or three copies.
    run: std::ops::Range<usize>,
    has_date: bool,
}

impl<'h> RawHeadersBuilder<'h> {
    /// A builder for lines of `head`, which the kept lines never outgrow.
    pub fn new(head: &'h [u8]) -> Self {
        RawHeadersBuilder {
            head,
            block: Vec::with_capacity(head.len()),
            run: 0..0,
            has_date: false,
        }
    }

    /// Keeps one line, as httparse read it from the head.
    pub fn push(&mut self, line: &httparse::Header<'_>) {
        self.has_date |= line.name.len() == 4 && line.name.eq_ignore_ascii_case("date");
        let start = self.offset(line.name.as_bytes());
        // An empty value may point anywhere, so its line is written out below.
        let end = if line.value.is_empty() {
            start
        } else {
            self.offset(line.value) + line.value.len()
        };
        if !line.value.is_empty() && self.head.get(end..end + 2) == Some(b"\r\n") {
            // The line as received: name, colon, the backend's spacing, value, CRLF.
            if self.run.end != start {
                self.flush();
                self.run.start = start;
            }
            self.run.end = end + 2;
            return;
        }
        // Trailing spaces, a bare LF or an empty value: the line is written anew.
        self.flush();
        self.block.extend_from_slice(line.name.as_bytes());
        self.block.extend_from_slice(b": ");
        self.block.extend_from_slice(line.value);
        self.block.extend_from_slice(b"\r\n");
    }

    fn offset(&self, part: &[u8]) -> usize {
        part.as_ptr() as usize - self.head.as_ptr() as usize
    }

    fn flush(&mut self) {
        if !self.run.is_empty() {
            self.block.extend_from_slice(&self.head[self.run.clone()]);
        }
        self.run = 0..0;
    }

    pub fn finish(mut self, content_length: Option<u64>) -> RawHeaders {
        self.flush();
        self.block.extend_from_slice(b"\r\n");
        RawHeaders {
            block: self.block,
            has_date: self.has_date,
            content_length,
        }
    }
}

impl RawHeaders {
    /// The header lines, each ending in CRLF, without the head's final empty line.
    pub fn lines(&self) -> &[u8] {
        &self.block[..self.block.len() - 2]
    }

    pub fn has_date(&self) -> bool {
        self.has_date
    }

    /// The body length the backend declared in `Content-Length`.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The lines as a header map, `Content-Length` included. The values share the
    /// block's bytes.
    fn into_header_map(self) -> HeaderMap {
        let block = Bytes::from(self.block);
        let mut slots = [httparse::EMPTY_HEADER; crate::server::limits::MAX_HEADERS];
        // The block holds only lines that httparse accepted once already, in the same
        // syntax, and both parsers accept the same tokens and value bytes: a failure
        // here is a bug.
        let parsed = match httparse::parse_headers(&block, &mut slots) {
            Ok(httparse::Status::Complete((_, lines))) => HeadCopy::shared(block.clone()).headers(lines, |_| false),
            other => Err(format!("{other:?}")),
        };
        let mut headers = parsed.unwrap_or_else(|e| {
            tracing::error!("kept response header lines do not make a header map: {e}");
            HeaderMap::new()
        });
        if let Some(n) = self.content_length {
            headers.insert(http::header::CONTENT_LENGTH, n.into());
        }
        headers
    }
}

/// Moves the lines kept in `response`'s extensions, if any, into its header map, so
/// that the map holds every header. Cheap when there are none.
pub fn into_map<B>(response: &mut http::Response<B>) {
    if let Some(raw) = response.extensions_mut().remove::<RawHeaders>() {
        let mut headers = raw.into_header_map();
        // A header set on the map meanwhile was set later than the backend's: it wins.
        headers.extend(std::mem::take(response.headers_mut()));
        *response.headers_mut() = headers;
    }
}

/// The body length a response's head declares, whether its headers are in the map or
/// still kept as lines.
pub fn declared_length(headers: &HeaderMap, extensions: &http::Extensions) -> Option<u64> {
    match headers.get(http::header::CONTENT_LENGTH) {
        Some(value) => content_length(value.as_bytes(), None),
        None => extensions.get::<RawHeaders>()?.content_length(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(head: &str, content_length: Option<u64>) -> RawHeaders {
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let Ok(httparse::Status::Complete((_, lines))) = httparse::parse_headers(head.as_bytes(), &mut slots) else {
            panic!("test head does not parse");
        };
        let mut builder = RawHeadersBuilder::new(head.as_bytes());
        for line in lines.iter() {
            builder.push(line);
        }
        builder.finish(content_length)
    }

    #[test]
    fn lines_keep_their_case_and_order_and_the_date_is_noticed() {
        let raw = kept(
            "Server: x\r\nDATE: Sat, 21 Nov 2026 00:00:00 GMT\r\nX-A:  1\r\n\r\n",
            Some(5),
        );
        assert_eq!(
            raw.lines(),
            b"Server: x\r\nDATE: Sat, 21 Nov 2026 00:00:00 GMT\r\nX-A:  1\r\n"
        );
        assert!(raw.has_date());
        assert_eq!(raw.content_length(), Some(5));
        assert!(!kept("X-Dates: no\r\n\r\n", None).has_date());
    }

    #[test]
    fn lines_not_ending_in_crlf_right_after_the_value_are_written_anew() {
        let raw = kept("A: 1\nB: 2 \r\nC:\r\nD: 4\r\nE: 5\r\n\r\n", None);
        assert_eq!(raw.lines(), b"A: 1\r\nB: 2\r\nC: \r\nD: 4\r\nE: 5\r\n");
    }

    #[test]
    fn into_map_moves_every_line_and_the_length_into_the_map() {
        let mut response = http::Response::new(());
        response.headers_mut().insert("x-set-later", "yes".parse().unwrap());
        response.extensions_mut().insert(kept(
            "Server: x\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
            Some(12),
        ));
        into_map(&mut response);
        let headers = response.headers();
        assert_eq!(headers["server"], "x");
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(headers["content-length"], "12");
        assert_eq!(headers["x-set-later"], "yes");
        assert_eq!(headers.len(), 5);
        assert!(response.extensions().get::<RawHeaders>().is_none());
    }

    #[test]
    fn into_map_leaves_a_response_without_kept_lines_alone() {
        let mut response = http::Response::new(());
        response.headers_mut().insert("x-a", "1".parse().unwrap());
        into_map(&mut response);
        assert_eq!(response.headers().len(), 1);
    }
}
