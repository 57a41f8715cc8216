//! The pieces of an AWS Signature V4 style signature, rebuilt from the request as it
//! arrived: the canonical path, query and header values, the request timestamp, the
//! derived signing key and the hex SHA-256 and HMAC-SHA256 they are joined with.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The body hash a client signs when the body is left out of the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// RFC 3986 unreserved characters stay; every other byte becomes `%XX` (upper-case
/// hex), a space included (`%20`, never `+`), as SigV4 encodes.
fn escape(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
}

/// The path as the client sent it (still percent-encoded), encoded once more: a
/// signer encodes the escaped path again, so `/a%20b` is signed as `/a%2520b`.
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".into();
    }
    let mut out = String::with_capacity(raw_path.len());
    escape(&mut out, raw_path.as_bytes(), true);
    out
}

/// Form decoding of one query component: `%XX` escapes and `+` for a space. A `%`
/// not followed by two hex digits stands for itself.
fn decode(component: &str) -> Vec<u8> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The query's parameters, decoded, in the order sent.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                String::from_utf8_lossy(&decode(key)).into_owned(),
                String::from_utf8_lossy(&decode(value)).into_owned(),
            )
        })
        .collect()
}

/// `key=value` pairs, each side encoded, sorted by key and then value, joined by `&`;
/// the parameters `keep` refuses (the signature itself, say) are left out.
pub fn canonical_query(pairs: &[(String, String)], keep: impl Fn(&str) -> bool) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .filter(|(key, _)| keep(key))
        .map(|(key, value)| {
            let (mut k, mut v) = (String::new(), String::new());
            escape(&mut k, key.as_bytes(), false);
            escape(&mut v, value.as_bytes(), false);
            (k, v)
        })
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (key, value)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A header's values, each trimmed with its runs of spaces made one, joined by `,`.
pub fn canonical_header_value(values: &[String]) -> String {
    let mut out = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut words = value.trim().split(' ').filter(|w| !w.is_empty()).peekable();
        while let Some(word) = words.next() {
            out.push_str(word);
            if words.peek().is_some() {
                out.push(' ');
            }
        }
    }
    out
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Seconds since the epoch of a SigV4 timestamp, `YYYYMMDDTHHMMSSZ` in UTC.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = &text[range];
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(seconds).ok()
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac
}

/// The key a signature is made with: the secret (after the literal prefix) HMACed with
/// the date, then with each scope, then with the scope suffix, so that a leaked
/// signing key is good for one day and one scope only.
pub fn signing_key(prefixed_secret: &[u8], date: &str, scopes: &[&str], suffix: &str) -> Vec<u8> {
    let mut key = hmac_sha256(prefixed_secret, date.as_bytes())
        .finalize()
        .into_bytes()
        .to_vec();
    for scope in scopes.iter().chain([&suffix]) {
        key = hmac_sha256(&key, scope.as_bytes()).finalize().into_bytes().to_vec();
    }
    key
}

pub fn sha256_hex(data: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_once_more() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a/b-c_d.e~f"), "/a/b-c_d.e~f");
        assert_eq!(canonical_uri("/a%20b/x!"), "/a%2520b/x%21");
    }

    #[test]
    fn queries_are_decoded_sorted_and_encoded_again() {
        let pairs = query_pairs(Some("b=2&a=z&a=y&flag&sp=x+y&pct=%41%zz&X-Signature=s"));
        assert_eq!(
            canonical_query(&pairs, |k| k != "X-Signature"),
            "a=y&a=z&b=2&flag=&pct=A%25zz&sp=x%20y"
        );
        assert_eq!(canonical_query(&query_pairs(None), |_| true), "");
        assert_eq!(canonical_query(&query_pairs(Some("t=%")), |_| true), "t=%25");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        assert_eq!(canonical_header_value(&["  a   b  c ".into(), "d".into()]), "a b c,d");
        assert_eq!(canonical_header_value(&[]), "");
    }

    #[test]
    fn timestamps_are_utc_seconds() {
        assert_eq!(parse_timestamp("19700101T000000Z"), Some(0));
        assert_eq!(parse_timestamp("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_timestamp("20240229T235959Z"), Some(1_709_251_199));
        assert_eq!(parse_timestamp("20150830T1236Z"), None);
        assert_eq!(parse_timestamp("20151330T123600Z"), None);
        assert_eq!(parse_timestamp("2015083OT123600Z"), None);
    }
}
