//! Who may change the configuration. On a loopback address anyone who can connect is
//! local and trusted; anywhere else a mutation must carry `Authorization: Bearer TOKEN`.

use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct AdminAuth {
    token: Option<String>,
    require_for_mutations: bool,
}

impl AdminAuth {
    /// Refuses a non-loopback admin address without a token: an open admin port on a
    /// network would let anyone reconfigure the proxy.
    pub fn new(addr: SocketAddr, token: Option<String>) -> Result<AdminAuth, String> {
        let token = token.filter(|t| !t.is_empty());
        let require = !addr.ip().is_loopback();
        if require && token.is_none() {
            return Err(format!(
                "the admin API would listen on {addr}, which is not a loopback address; \
                 set a token with --admin-token or WEIR_ADMIN_TOKEN"
            ));
        }
        Ok(AdminAuth {
            token,
            require_for_mutations: require,
        })
    }

    /// Whether a mutation with this `Authorization` header may proceed.
    pub fn allows_mutation(&self, authorization: Option<&[u8]>) -> bool {
        if !self.require_for_mutations {
            return true;
        }
        let (Some(token), Some(header)) = (&self.token, authorization) else {
            return false;
        };
        let Some(presented) = header.strip_prefix(b"Bearer ") else {
            return false;
        };
        constant_time_eq(presented, token.as_bytes())
    }
}

/// Compares without stopping at the first difference, so timing does not reveal how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token_elsewhere_it_does() {
        let local = AdminAuth::new("127.0.0.1:2381".parse().unwrap(), None).unwrap();
        assert!(local.allows_mutation(None));
        assert!(AdminAuth::new("0.0.0.0:2381".parse().unwrap(), None).is_err());
        let open = AdminAuth::new("0.0.0.0:2381".parse().unwrap(), Some("s3cret".into())).unwrap();
        assert!(!open.allows_mutation(None));
        assert!(!open.allows_mutation(Some(b"Bearer wrong!")));
        assert!(!open.allows_mutation(Some(b"s3cret")));
        assert!(open.allows_mutation(Some(b"Bearer s3cret")));
    }
}
