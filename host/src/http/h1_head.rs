//! Turning the header lines httparse found in an HTTP/1.1 head (a request's or a
//! response's) into a `HeaderMap` whose values share one copy of the head.

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
