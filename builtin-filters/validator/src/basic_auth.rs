//! The `basicAuth` rule, mode `FILE`: `Authorization: Basic` credentials checked
//! against an htpasswd file. The host reads `userFile` when the pipeline is built and
//! hands its text over as `userFileContent` (a filter cannot read files). Entries may
//! be bcrypt (`$2y$`, `$2a$`, `$2b$`), `{SHA}` (base64 SHA-1) or `$apr1$` (Apache's
//! MD5-crypt).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicAuthSpec {
    mode: String,
    #[serde(default)]
    user_file: Option<String>,
    /// Set by the host from `userFile`.
    #[serde(default)]
    user_file_content: Option<String>,
}

pub struct BasicAuth {
    users: HashMap<String, String>,
}

impl BasicAuth {
    pub fn new(spec: BasicAuthSpec) -> Result<BasicAuth, String> {
        if spec.mode != "FILE" {
            return Err(format!("basicAuth.mode {:?} is not supported (only FILE)", spec.mode));
        }
        let Some(content) = spec.user_file_content else {
            return Err(format!(
                "basicAuth.userFile {:?} was not read",
                spec.user_file.unwrap_or_default()
            ));
        };
        let mut users = HashMap::new();
        for (i, line) in content.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("basicAuth.userFile line {}: not user:hash", i + 1))?;
            if !(hash.starts_with("$2") || hash.starts_with("{SHA}") || hash.starts_with("$apr1$")) {
                return Err(format!(
                    "basicAuth.userFile line {}: unsupported hash for {user:?} (bcrypt, {{SHA}} or $apr1$)",
                    i + 1
                ));
            }
            users.insert(user.to_string(), hash.to_string());
        }
        Ok(BasicAuth { users })
    }

    /// The user whose credentials `authorization` carries, if they are right.
    pub fn check(&self, authorization: Option<&str>) -> Option<String> {
        let (scheme, encoded) = authorization?.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        let hash = self.users.get(user)?;
        matches(hash, password).then(|| user.to_string())
    }
}

fn matches(hash: &str, password: &str) -> bool {
    if let Some(sha) = hash.strip_prefix("{SHA}") {
        return STANDARD.encode(sha1::Sha1::digest(password.as_bytes())) == sha;
    }
    if let Some(rest) = hash.strip_prefix("$apr1$") {
        let salt = rest.split('$').next().unwrap_or("");
        return apr1(password.as_bytes(), salt.as_bytes()) == hash;
    }
    bcrypt::verify(password, hash).unwrap_or(false)
}

const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Apache's MD5-crypt: `$apr1$salt$digest`.
fn apr1(password: &[u8], salt: &[u8]) -> String {
    let salt = &salt[..salt.len().min(8)];
    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(b"$apr1$")
        .chain_update(salt);
    let mut left = password.len();
    while left > 0 {
        let n = left.min(16);
        ctx.update(&alternate[..n]);
        left -= n;
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut digest = ctx.finalize();
    // A thousand rounds make guessing slow.
    for round in 0..1000 {
        let mut c = Md5::new();
        if round & 1 == 1 {
            c.update(password);
        } else {
            c.update(digest);
        }
        if round % 3 != 0 {
            c.update(salt);
        }
        if round % 7 != 0 {
            c.update(password);
        }
        if round & 1 == 1 {
            c.update(digest);
        } else {
            c.update(password);
        }
        digest = c.finalize();
    }
    let mut out = format!("$apr1${}$", String::from_utf8_lossy(salt));
    let mut put = |value: u32, chars: usize| {
        let mut v = value;
        for _ in 0..chars {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put(
            (u32::from(digest[a]) << 16) | (u32::from(digest[b]) << 8) | u32::from(digest[c]),
            4,
        );
    }
    put(u32::from(digest[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    #[test]
    fn every_hash_kind_checks_the_password() {
        let bcrypt_hash = bcrypt::hash("b-pass", 4).unwrap();
        let sha = STANDARD.encode(sha1::Sha1::digest(b"s-pass"));
        let file = format!(
            "# users\nbob:{bcrypt_hash}\nsam:{{SHA}}{sha}\namy:{}\n",
            apr1(b"a-pass", b"saltsalt")
        );
        let basic = BasicAuth::new(BasicAuthSpec {
            mode: "FILE".into(),
            user_file: None,
            user_file_content: Some(file),
        })
        .unwrap();
        for (user, password) in [("bob", "b-pass"), ("sam", "s-pass"), ("amy", "a-pass")] {
            assert_eq!(basic.check(Some(&auth(user, password))).as_deref(), Some(user));
            assert_eq!(basic.check(Some(&auth(user, "wrong"))), None);
        }
        assert_eq!(basic.check(Some(&auth("nobody", "x"))), None);
        assert_eq!(basic.check(Some("Bearer x")), None);
    }

    #[test]
    fn unsupported_entries_and_modes_are_refused() {
        let spec = |mode: &str, content: &str| BasicAuthSpec {
            mode: mode.into(),
            user_file: None,
            user_file_content: Some(content.into()),
        };
        assert!(BasicAuth::new(spec("FILE", "u:plaintext")).is_err());
        assert!(BasicAuth::new(spec("LDAP", "")).is_err());
    }
}
