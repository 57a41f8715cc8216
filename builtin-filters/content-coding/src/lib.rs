//! The adaptors' `compress` / `decompress`: gzip a body, or gunzip one, as Easegress
//! does it: compressing leaves a body that already has a `Content-Encoding` alone, and
//! decompressing touches only a body whose `Content-Encoding` is `gzip`.

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Deserialize;
use std::io::{Read, Write};

/// The codings a spec may name; Easegress knows only gzip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coding {
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
        }
    }
}

/// The most a decompressed body may hold, so that a small gzip bomb cannot exhaust the
/// filter's memory; larger is a failure (`decompressFailed`).
pub const MAX_DECOMPRESSED: u64 = 16 * 1024 * 1024;

/// The compressed body, or `None` when the body already has a coding.
pub fn compress(coding: Coding, content_encoding: Option<&str>, body: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if content_encoding.is_some_and(|e| !e.trim().is_empty()) {
        return Ok(None);
    }
    match coding {
        Coding::Gzip => {
            let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body).map_err(|e| format!("gzip: {e}"))?;
            encoder.finish().map(Some).map_err(|e| format!("gzip: {e}"))
        }
    }
}

/// The decompressed body, or `None` when the body is not in `coding`.
pub fn decompress(coding: Coding, content_encoding: Option<&str>, body: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if !content_encoding.is_some_and(|e| e.trim().eq_ignore_ascii_case(coding.token())) {
        return Ok(None);
    }
    let mut out = Vec::new();
    // One byte past the cap tells a body at the cap from a larger one.
    GzDecoder::new(body)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("gunzip: {e}"))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(format!("gunzip: the body is over {MAX_DECOMPRESSED} bytes decompressed"));
    }
    Ok(Some(out))
}

/// One of the adaptors' body steps, with the result it fails with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recode {
    Compress(Coding),
    Decompress(Coding),
}

/// A body after a [`Recode`], and the `Content-Encoding` it now has (`None`: no coding).
pub struct Recoded {
    pub body: Vec<u8>,
    pub content_encoding: Option<&'static str>,
}

impl Recode {
    /// The steps a spec asks for, in Easegress's order: compress, then decompress.
    pub fn steps(compress: Option<Coding>, decompress: Option<Coding>) -> Vec<Recode> {
        compress
            .map(Recode::Compress)
            .into_iter()
            .chain(decompress.map(Recode::Decompress))
            .collect()
    }

    /// The new body, or `None` when the step does not apply to this body.
    pub fn apply(self, content_encoding: Option<&str>, body: &[u8]) -> Result<Option<Recoded>, String> {
        Ok(match self {
            Recode::Compress(c) => compress(c, content_encoding, body)?.map(|body| Recoded {
                body,
                content_encoding: Some(c.token()),
            }),
            Recode::Decompress(c) => decompress(c, content_encoding, body)?.map(|body| Recoded {
                body,
                content_encoding: None,
            }),
        })
    }

    /// The result a failure of this step gives.
    pub fn failure(self) -> &'static str {
        match self {
            Recode::Compress(_) => "compressFailed",
            Recode::Decompress(_) => "decompressFailed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_the_encoding_rules() {
        let body = b"hello hello hello hello".repeat(10);
        let gz = compress(Coding::Gzip, None, &body).unwrap().unwrap();
        assert!(gz.len() < body.len());
        assert_eq!(decompress(Coding::Gzip, Some("gzip"), &gz).unwrap().unwrap(), body);
        assert_eq!(compress(Coding::Gzip, Some("br"), &body).unwrap(), None, "already encoded");
        assert_eq!(decompress(Coding::Gzip, None, &gz).unwrap(), None, "not gzip-encoded");
        assert!(decompress(Coding::Gzip, Some("gzip"), b"not gzip").is_err());
    }

    #[test]
    fn a_bomb_is_refused() {
        let big = vec![0u8; (MAX_DECOMPRESSED + 1) as usize];
        let gz = compress(Coding::Gzip, None, &big).unwrap().unwrap();
        assert!(decompress(Coding::Gzip, Some("gzip"), &gz).unwrap_err().contains("over"));
    }
}
