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
//! [`into_map`] first, or edits through [`edit`]. `Context::response_mut`, the access
//! log and the HTTP/2 server call `into_map`; a filter's header edits go through `edit`;
//! the HTTP/1.1 response writer is the one reader that takes the lines as they are.

use super::h1_head::{content_length, HeadCopy};
use super::hop_by_hop::is_hop_by_hop;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, DATE};
use http::{HeaderMap, HeaderName, HeaderValue};

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

    /// Whether the block can take `edit` and still parse as a head: the parser that
    /// turns it into a map reads at most `MAX_HEADERS` lines, as the client did.
    fn has_room_for(&self, edit: &LineEdit) -> bool {
        matches!(edit, LineEdit::Remove(_))
            || memchr::memchr_iter(b'\n', &self.block).count() <= crate::server::limits::MAX_HEADERS
    }

    fn edit(&mut self, edit: &LineEdit) {
        match edit {
            LineEdit::Set(name, value) => {
                self.remove(name);
                self.append(name, value);
            }
            LineEdit::Add(name, value) => self.append(name, value),
            LineEdit::Remove(name) => self.remove(name),
        }
    }

    /// Drops every line named `name`, in any case, keeping the others in order.
    fn remove(&mut self, name: &HeaderName) {
        let name = name.as_str().as_bytes();
        let mut kept = 0;
        let mut at = 0;
        let end = self.block.len() - 2;
        while at < end {
            let line_end = self.line_end(at);
            if !is_named(&self.block[at..line_end], name) {
                self.block.copy_within(at..line_end, kept);
                kept += line_end - at;
            }
            at = line_end;
        }
        self.block.copy_within(end.., kept);
        self.block.truncate(kept + 2);
        if name == b"date" {
            self.has_date = false;
        }
    }

    /// Where the line that starts at `at` ends, after its CRLF.
    fn line_end(&self, at: usize) -> usize {
        // Every kept line ends in CRLF, and a value holds no CR.
        let end = self.block.len() - 2;
        at + memchr::memchr(b'\r', &self.block[at..end]).expect("each line ends in CRLF") + 2
    }

    /// Calls `each` with the value of every line named `name` (any case), in order.
    fn each_value(&self, name: &[u8], mut each: impl FnMut(&[u8])) {
        let mut at = 0;
        while at < self.block.len() - 2 {
            let line_end = self.line_end(at);
            let line = &self.block[at..line_end - 2];
            if is_named(line, name) {
                // As httparse reads a value: without the spaces and tabs around it.
                let value = line[name.len() + 1..].trim_ascii_start();
                each(value.trim_ascii_end());
            }
            at = line_end;
        }
    }

    /// Adds `name: value` after the other lines.
    fn append(&mut self, name: &HeaderName, value: &HeaderValue) {
        self.block.truncate(self.block.len() - 2);
        self.block.extend_from_slice(name.as_str().as_bytes());
        self.block.extend_from_slice(b": ");
        self.block.extend_from_slice(value.as_bytes());
        self.block.extend_from_slice(b"\r\n\r\n");
        self.has_date |= *name == DATE;
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

/// Whether the header line `line` is named `name`, the two compared in any case.
fn is_named(line: &[u8], name: &[u8]) -> bool {
    line.len() > name.len() && line[name.len()] == b':' && line[..name.len()].eq_ignore_ascii_case(name)
}

/// Calls `each` with every value of the header `name` (any case) of `response`, in
/// order, as [`into_map`] would leave them, without building the map. A filter that
/// checks one response header pays for that header only.
pub fn each_value<B>(response: &http::Response<B>, name: &str, mut each: impl FnMut(&[u8])) {
    let in_map = response.headers().get_all(name);
    let raw = match response.extensions().get::<RawHeaders>() {
        // A name in the map was set after the backend's lines, so it replaces theirs.
        Some(raw) if in_map.iter().next().is_none() => raw,
        _ => return in_map.iter().for_each(|value| each(value.as_bytes())),
    };
    if name.eq_ignore_ascii_case(CONTENT_LENGTH.as_str()) {
        if let Some(n) = raw.content_length {
            each(n.to_string().as_bytes());
        }
        return;
    }
    raw.each_value(name.as_bytes(), each);
}

/// A header edit that can land in a response's kept lines, without building the map.
/// Response adaptors set a header or two on responses whose other headers nobody
/// reads; building the map for that cost more than the rest of the edit's host call.
#[derive(Debug, Clone)]
pub enum LineEdit {
    /// Replaces every line of the name with one.
    Set(HeaderName, HeaderValue),
    /// Adds a line, after those already there.
    Add(HeaderName, HeaderValue),
    /// Removes every line of the name.
    Remove(HeaderName),
}

impl LineEdit {
    /// Applies the edit to a header map.
    pub fn apply_to(self, headers: &mut HeaderMap) {
        match self {
            LineEdit::Set(name, value) => {
                headers.insert(name, value);
            }
            LineEdit::Add(name, value) => {
                headers.append(name, value);
            }
            LineEdit::Remove(name) => {
                headers.remove(&name);
            }
        }
    }

    fn name(&self) -> &HeaderName {
        match self {
            LineEdit::Set(name, _) | LineEdit::Add(name, _) | LineEdit::Remove(name) => name,
        }
    }
}

/// Applies `edit` to `response`'s headers: to its kept lines when it has them, else to
/// its map. Framing and hop-by-hop names mean more to the writer than a line does, so
/// an edit to one of those moves the lines into the map first.
pub fn edit<B>(response: &mut http::Response<B>, edit: LineEdit) {
    let name = edit.name();
    let in_place = *name != CONTENT_LENGTH && !is_hop_by_hop(name);
    match response.extensions_mut().get_mut::<RawHeaders>() {
        Some(raw) if in_place && raw.has_room_for(&edit) => raw.edit(&edit),
        _ => {
            into_map(response);
            edit.apply_to(response.headers_mut());
        }
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
        let mut slots = [httparse::EMPTY_HEADER; 128];
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

    fn line_edit(kind: &str, name: &str, value: &str) -> LineEdit {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        match kind {
            "set" => LineEdit::Set(name, value.parse().unwrap()),
            "add" => LineEdit::Add(name, value.parse().unwrap()),
            _ => LineEdit::Remove(name),
        }
    }

    const HEAD: &str =
        "Server: x\r\nSet-Cookie: a=1\r\nX-Keep: k\r\nSET-COOKIE: b=2\r\nDate: Sat, 21 Nov 2026 00:00:00 GMT\r\n\r\n";

    #[test]
    fn edits_land_in_the_kept_lines_and_keep_the_others_as_they_were() {
        let mut response = http::Response::new(());
        response.extensions_mut().insert(kept(HEAD, Some(2)));
        edit(&mut response, line_edit("set", "set-cookie", "c=3"));
        edit(&mut response, line_edit("add", "x-keep", "k2"));
        edit(&mut response, line_edit("remove", "SERVER", ""));
        assert!(response.headers().is_empty(), "no map was built");
        let raw = response.extensions().get::<RawHeaders>().unwrap();
        assert_eq!(
            std::str::from_utf8(raw.lines()).unwrap(),
            "X-Keep: k\r\nDate: Sat, 21 Nov 2026 00:00:00 GMT\r\nset-cookie: c=3\r\nx-keep: k2\r\n"
        );
        assert!(raw.has_date());
        assert_eq!(raw.content_length(), Some(2));

        edit(&mut response, line_edit("remove", "date", ""));
        assert!(!response.extensions().get::<RawHeaders>().unwrap().has_date());
        edit(&mut response, line_edit("set", "date", "Sun, 22 Nov 2026 00:00:00 GMT"));
        assert!(response.extensions().get::<RawHeaders>().unwrap().has_date());
    }

    /// Whatever the edits, the headers end up as if they had been made on the map.
    #[test]
    fn edits_in_place_give_the_headers_that_edits_on_the_map_give() {
        let edits = [
            [
                ("set", "set-cookie", "c=3"),
                ("add", "set-cookie", "d=4"),
                ("remove", "x-keep", ""),
            ],
            [("add", "x-new", "1"), ("set", "x-new", "2"), ("add", "x-new", "3")],
            [
                ("remove", "x-absent", ""),
                ("set", "server", "weir"),
                ("add", "date", "again"),
            ],
            // Framing and hop-by-hop names go through the map.
            [
                ("set", "content-length", "7"),
                ("set", "x-after", "1"),
                ("add", "connection", "close"),
            ],
            [
                ("set", "x-before", "1"),
                ("remove", "content-length", ""),
                ("add", "server", "y"),
            ],
        ];
        for case in edits {
            let mut in_place = http::Response::new(());
            in_place.extensions_mut().insert(kept(HEAD, Some(2)));
            let mut on_map = in_place.clone();
            into_map(&mut on_map);
            for (kind, name, value) in case {
                edit(&mut in_place, line_edit(kind, name, value));
                line_edit(kind, name, value).apply_to(on_map.headers_mut());
            }
            into_map(&mut in_place);
            assert_eq!(in_place.headers(), on_map.headers(), "{case:?}");
        }
    }

    /// Values read from the kept lines are the values the map would hold.
    #[test]
    fn values_read_from_the_lines_are_the_maps() {
        let mut response = http::Response::new(());
        response.extensions_mut().insert(kept(
            "Set-Cookie: a=1\r\nX-Spaced: \t two words\r\nset-cookie:b=2\r\nX-Empty:\r\nSet-Cookie-2: no\r\n\r\n",
            Some(12),
        ));
        edit(&mut response, line_edit("add", "x-added", " padded "));
        let mut on_map = response.clone();
        into_map(&mut on_map);
        for name in [
            "set-cookie",
            "SET-COOKIE",
            "x-spaced",
            "x-empty",
            "content-length",
            "x-added",
            "x-absent",
            "set",
        ] {
            let mut from_lines = Vec::new();
            each_value(&response, name, |v| from_lines.push(v.to_vec()));
            let from_map: Vec<_> = on_map
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect();
            assert_eq!(from_lines, from_map, "{name}");
        }
        assert!(response.headers().is_empty(), "reading built no map");

        // A header set on the map after the lines were kept replaces theirs.
        response.headers_mut().insert("set-cookie", "later=1".parse().unwrap());
        let mut values = Vec::new();
        each_value(&response, "Set-Cookie", |v| values.push(v.to_vec()));
        assert_eq!(values, [b"later=1".to_vec()]);
    }

    #[test]
    fn a_full_block_takes_no_more_lines_in_place() {
        let many: String = (0..crate::server::limits::MAX_HEADERS)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect();
        let mut response = http::Response::new(());
        response.extensions_mut().insert(kept(&format!("{many}\r\n"), None));
        edit(&mut response, line_edit("add", "x-one-more", "v"));
        assert!(response.extensions().get::<RawHeaders>().is_none());
        assert_eq!(response.headers().len(), crate::server::limits::MAX_HEADERS + 1);
    }

    #[test]
    fn into_map_leaves_a_response_without_kept_lines_alone() {
        let mut response = http::Response::new(());
        response.headers_mut().insert("x-a", "1".parse().unwrap());
        into_map(&mut response);
        assert_eq!(response.headers().len(), 1);
    }
}
