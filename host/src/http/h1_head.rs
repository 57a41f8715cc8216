//! Reading the header lines httparse found in an HTTP/1.1 head, a request's or a
//! response's: what the framing and connection headers say, and a `HeaderMap` whose
//! values share one copy of the head.

use super::hop_by_hop::connection_tokens;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// One copy of a head's bytes, from which its parts are cut without copying again.
pub struct HeadCopy {
    bytes: Bytes,
    /// Where the head was when httparse read it: parts are found by their offset.
    base: usize,
}

impl HeadCopy {
    /// Copies `head` (a few hundred bytes, usually), which leaves the read buffer it came
    /// from free for what follows.
    pub fn new(head: &[u8]) -> HeadCopy {
        HeadCopy {
            bytes: Bytes::copy_from_slice(head),
            base: head.as_ptr() as usize,
        }
    }

    /// A head already in `bytes`, parsed where it lies.
    pub fn shared(bytes: Bytes) -> HeadCopy {
        let base = bytes.as_ptr() as usize;
        HeadCopy { bytes, base }
    }

    /// The bytes of `part`, a slice of the original head, in the copy.
    pub fn slice(&self, part: &[u8]) -> Bytes {
        let start = part.as_ptr() as usize - self.base;
        self.bytes.slice(start..start + part.len())
    }

    /// The header map of `lines` (from the original head), leaving out the lines `drop`
    /// picks. The error says which name or value is bad.
    pub fn headers(
        &self,
        lines: &[httparse::Header<'_>],
        mut drop: impl FnMut(&httparse::Header<'_>) -> bool,
    ) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::with_capacity(lines.len());
        for line in lines {
            if drop(line) {
                continue;
            }
            let name =
                HeaderName::from_bytes(line.name.as_bytes()).map_err(|_| format!("bad header name {:?}", line.name))?;
            let value = HeaderValue::from_maybe_shared(self.slice(line.value))
                .map_err(|_| format!("bad value for header {name}"))?;
            headers.append(name, value);
        }
        Ok(headers)
    }
}

/// What the Connection lines of a head say.
#[derive(Debug, Default)]
pub struct ConnectionOptions {
    pub close: bool,
    pub keep_alive: bool,
    /// Some other name is listed: that header is hop-by-hop too.
    pub lists_names: bool,
}

impl ConnectionOptions {
    /// Adds what one Connection value lists.
    pub fn read(&mut self, value: &[u8]) {
        for token in connection_tokens(value) {
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else {
                self.lists_names = true;
            }
        }
    }
}

/// The length one `Content-Length` line states: a number, or a list of the same
/// number (RFC 9110 §8.6), which must also agree with `earlier` lines. `None` when the
/// line is malformed or disagrees.
pub fn content_length(value: &[u8], earlier: Option<u64>) -> Option<u64> {
    let mut length = earlier;
    for item in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
        if item.is_empty() {
            return None;
        }
        let mut n: u64 = 0;
        for &b in item {
            if !b.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        if length.is_some_and(|l| l != n) {
            return None;
        }
        length = Some(n);
    }
    length
}

/// Whether the last coding a Transfer-Encoding value lists is `chunked` (RFC 9112
/// §6.3: otherwise the body's length cannot be known from the framing).
pub fn last_coding_is_chunked(codings: &[u8]) -> bool {
    codings
        .rsplit(|&b| b == b',')
        .next()
        .is_some_and(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lengths_must_be_one_number() {
        assert_eq!(content_length(b"612", None), Some(612));
        assert_eq!(content_length(b" 3 , 3", None), Some(3));
        assert_eq!(content_length(b"3", Some(3)), Some(3));
        for bad in [&b"3, 4"[..], b"-1", b"", b"1,", b"0x10", b"99999999999999999999"] {
            assert_eq!(content_length(bad, None), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(content_length(b"4", Some(3)), None);
    }

    #[test]
    fn connection_tokens_in_any_case_and_spacing() {
        let mut options = ConnectionOptions::default();
        options.read(b" Keep-Alive , X-Session");
        assert!(options.keep_alive && options.lists_names && !options.close);
        options.read(b"CLOSE");
        assert!(options.close);
    }

    #[test]
    fn only_a_final_chunked_coding_counts() {
        assert!(last_coding_is_chunked(b"gzip, Chunked "));
        assert!(!last_coding_is_chunked(b"chunked, gzip"));
        assert!(!last_coding_is_chunked(b""));
    }
}
