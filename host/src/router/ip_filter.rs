//! IP allow/block lists (server, rule and path level).

use crate::config::http_server::IpFilterSpec;
use crate::config::FieldError;
use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Debug, Clone)]
pub struct IpFilter {
    block_by_default: bool,
    allow: Vec<IpNet>,
    block: Vec<IpNet>,
}

impl IpFilter {
    pub fn build(spec: &IpFilterSpec) -> Result<IpFilter, FieldError> {
        let parse = |list: &[String], field: &str| -> Result<Vec<IpNet>, FieldError> {
            list.iter()
                .enumerate()
                .map(|(i, text)| {
                    text.parse::<IpNet>()
                        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            FieldError::new(
                                format!("{field}[{i}]"),
                                format!("{text:?} is not an IP address or CIDR range"),
                            )
                        })
                })
                .collect()
        };
        Ok(IpFilter {
            block_by_default: spec.block_by_default,
            allow: parse(&spec.allow_ips, "allowIPs")?,
            block: parse(&spec.block_ips, "blockIPs")?,
        })
    }

    /// With `blockByDefault`, only listed allowed addresses pass; otherwise everything
    /// passes except blocked addresses. An address in both lists is allowed: the
    /// explicit allow is the narrower statement of intent.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return true;
        }
        if self.block_by_default {
            return false;
        }
        !self.block.iter().any(|net| net.contains(&ip))
    }
}

/// IPv4 clients on a dual-stack socket appear as `::ffff:a.b.c.d`; compare them as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(block_by_default: bool, allow: &[&str], block: &[&str]) -> IpFilter {
        IpFilter::build(&IpFilterSpec {
            block_by_default,
            allow_ips: allow.iter().map(|s| s.to_string()).collect(),
            block_ips: block.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn block_list_and_cidr() {
        let f = filter(false, &[], &["10.0.0.0/8", "::1"]);
        assert!(!f.allows("10.1.2.3".parse().unwrap()));
        assert!(!f.allows("::1".parse().unwrap()));
        assert!(f.allows("192.168.1.1".parse().unwrap()));
        assert!(!f.allows("::ffff:10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn allow_list_when_blocking_by_default() {
        let f = filter(true, &["127.0.0.1", "2001:db8::/32"], &[]);
        assert!(f.allows("127.0.0.1".parse().unwrap()));
        assert!(f.allows("2001:db8::5".parse().unwrap()));
        assert!(!f.allows("127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn bad_address_names_the_entry() {
        let e = IpFilter::build(&IpFilterSpec {
            allow_ips: vec!["nope".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("allowIPs[0]"));
    }
}
