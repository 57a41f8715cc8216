//! `kind: IPFilter`: decides on the client's address (the connection's peer): one in
//! `allowIPs` passes, else one in `blockIPs` is refused, else `blockByDefault` decides
//! (false: pass). Entries are addresses or CIDR ranges, IPv4 or IPv6; an IPv4 client
//! seen as an IPv4-mapped IPv6 address matches IPv4 entries. A refused request gets an
//! empty 403 and the result `blocked`.
//!
//! The peer, not `X-Forwarded-For`: a header is the client's to forge, so trusting it
//! would make the filter a suggestion.

use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use weir_sdk::{BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default, rename = "allowIPs")]
    allow_ips: Vec<String>,
    #[serde(default, rename = "blockIPs")]
    block_ips: Vec<String>,
    #[serde(default)]
    block_by_default: bool,
}

/// An address range: the network's bits and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cidr {
    network: u128,
    prefix: u32,
    v6: bool,
}

impl Cidr {
    fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let ip: IpAddr = addr.trim().parse().map_err(|_| format!("{text:?} is not an IP address or CIDR"))?;
        let (bits, v6, max) = as_bits(ip);
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has a bad prefix length"))?,
            None => max,
        };
        Ok(Cidr {
            network: bits & mask(prefix, max),
            prefix,
            v6,
        })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (bits, v6, max) = as_bits(ip);
        v6 == self.v6 && bits & mask(self.prefix, max) == self.network
    }
}

/// The address as bits, whether it is IPv6, and its width. IPv4-mapped IPv6 addresses
/// count as IPv4, as a dual-stack listener reports IPv4 clients that way.
fn as_bits(ip: IpAddr) -> (u128, bool, u32) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false, 32),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), false, 32),
            None => (u128::from(v6), true, 128),
        },
    }
}

fn mask(prefix: u32, width: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (128 - prefix)) >> (128 - width)
    }
}

pub struct IpFilter {
    allow: Vec<Cidr>,
    block: Vec<Cidr>,
    block_by_default: bool,
}

impl IpFilter {
    fn allows(&self, ip: IpAddr) -> bool {
        if self.allow.iter().any(|c| c.contains(ip)) {
            return true;
        }
        if self.block.iter().any(|c| c.contains(ip)) {
            return false;
        }
        !self.block_by_default
    }
}

fn parse_all(list: &[String], field: &str) -> Result<Vec<Cidr>, String> {
    list.iter()
        .enumerate()
        .map(|(i, t)| Cidr::parse(t).map_err(|e| format!("{field}[{i}]: {e}")))
        .collect()
}

impl Filter for IpFilter {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        // It reads headers and answers; nothing it does waits.
        weir_sdk::runtime::never_waits();
        Ok(IpFilter {
            allow: parse_all(&spec.allow_ips, "allowIPs")?,
            block: parse_all(&spec.block_ips, "blockIPs")?,
            block_by_default: spec.block_by_default,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let peer = exchange.client_addr();
        let ip = peer
            .parse::<SocketAddr>()
            .map(|s| s.ip())
            .or_else(|_| peer.parse::<IpAddr>());
        // An address the host cannot tell us is no address to allow.
        if ip.is_ok_and(|ip| self.allows(ip)) {
            return Outcome::Continue;
        }
        match exchange.set_response(BuiltResponse::new(403)) {
            Ok(()) => Outcome::Result("blocked".into()),
            Err(_) => Outcome::Respond(BuiltResponse::new(403)),
        }
    }
}

weir_sdk::export_filter!(IpFilter);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    fn verdict(config: &str, addr: &str) -> Outcome {
        let f = Harness::<IpFilter>::new(config).unwrap();
        f.on_request(&TestExchange::new(TestRequest::get("/")).with_client_addr(addr))
    }

    #[test]
    fn cidr_ranges_of_both_families() {
        let config = r#"{"blockIPs":["10.0.0.0/8","2001:db8::/32","192.168.1.7"]}"#;
        let blocked = Outcome::Result("blocked".into());
        assert_eq!(verdict(config, "10.1.2.3:80"), blocked);
        assert_eq!(verdict(config, "[2001:db8::1]:443"), blocked);
        assert_eq!(verdict(config, "192.168.1.7:1"), blocked);
        assert_eq!(verdict(config, "[::ffff:10.9.9.9]:1"), blocked, "IPv4-mapped counts as IPv4");
        assert_eq!(verdict(config, "192.168.1.8:1"), Outcome::Continue);
        assert_eq!(verdict(config, "[2001:db9::1]:1"), Outcome::Continue);
    }

    #[test]
    fn allow_wins_over_block_and_default() {
        let config = r#"{"allowIPs":["127.0.0.0/8","::1"],"blockByDefault":true}"#;
        assert_eq!(verdict(config, "127.0.0.1:5"), Outcome::Continue);
        assert_eq!(verdict(config, "[::1]:5"), Outcome::Continue);
        assert_eq!(verdict(config, "8.8.8.8:5"), Outcome::Result("blocked".into()));
        assert!(Harness::<IpFilter>::new(r#"{"allowIPs":["10.0.0.0/33"]}"#).is_err());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("1.2.3.4".parse().unwrap()));
    }
}
