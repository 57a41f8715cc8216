//! Load-balancing policies: which healthy server of a pool gets a request.

use super::spec::LoadBalanceSpec;
use crate::config::FieldError;
use crate::http::Request;
use http::HeaderName;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub enum Balancer {
    /// Each healthy server in turn, starting with the first.
    RoundRobin(AtomicUsize),
    Random,
    /// Random, in proportion to the servers' `weight`.
    WeightedRandom,
    /// FNV-32 of the client address, modulo the healthy servers.
    IpHash,
    /// FNV-32 of a header's value (absent: of ""), modulo the healthy servers.
    HeaderHash(HeaderName),
}

impl Balancer {
    pub fn build(spec: &LoadBalanceSpec) -> Result<Balancer, FieldError> {
        match spec.policy.as_deref().unwrap_or("roundRobin") {
            "roundRobin" | "" => Ok(Balancer::RoundRobin(AtomicUsize::new(0))),
            "random" => Ok(Balancer::Random),
            "weightedRandom" => Ok(Balancer::WeightedRandom),
            "ipHash" => Ok(Balancer::IpHash),
            "headerHash" => {
                let key = spec
                    .header_hash_key
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| FieldError::new("loadBalance.headerHashKey", "headerHash needs headerHashKey"))?;
                let name = HeaderName::from_bytes(key.as_bytes()).map_err(|_| {
                    FieldError::new("loadBalance.headerHashKey", format!("{key:?} is not a header name"))
                })?;
                Ok(Balancer::HeaderHash(name))
            }
            other => Err(FieldError::new(
                "loadBalance.policy",
                format!("unknown policy {other:?} (known: roundRobin, random, weightedRandom, ipHash, headerHash)"),
            )),
        }
    }

    /// Picks one of `healthy` (indexes of servers); `weights` are indexed like servers.
    pub fn choose(&self, healthy: &[usize], weights: &[u32], request: &Request, client: IpAddr) -> Option<usize> {
        if healthy.is_empty() {
            return None;
        }
        let n = healthy.len();
        let slot = match self {
            Balancer::RoundRobin(next) => next.fetch_add(1, Ordering::Relaxed) % n,
            Balancer::Random => fastrand::usize(..n),
            Balancer::WeightedRandom => return Some(weighted(healthy, weights)),
            Balancer::IpHash => ip_hash(client) as usize % n,
            Balancer::HeaderHash(name) => {
                fnv32(request.headers().get(name).map(|v| v.as_bytes()).unwrap_or(b"")) as usize % n
            }
        };
        Some(healthy[slot])
    }
}

/// A draw proportional to weight. All-zero weights count as equal, rather than failing
/// (Easegress panics there).
fn weighted(healthy: &[usize], weights: &[u32]) -> usize {
    let total: u64 = healthy.iter().map(|&i| weights[i] as u64).sum();
    if total == 0 {
        return healthy[fastrand::usize(..healthy.len())];
    }
    let mut draw = fastrand::u64(..total);
    for &i in healthy {
        let w = weights[i] as u64;
        if draw < w {
            return i;
        }
        draw -= w;
    }
    healthy[healthy.len() - 1]
}

/// FNV-32 of the address's octets (IPv4-mapped IPv6 counts as IPv4), without the
/// string formatting a per-request hash should not pay for.
pub fn ip_hash(ip: IpAddr) -> u32 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => fnv32(&v4.octets()),
        IpAddr::V6(v6) => fnv32(&v6.octets()),
    }
}

/// 32-bit FNV-1a, the hash Easegress uses for its hash policies.
pub fn fnv32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in bytes {
        hash ^= b as u32;
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request::new(crate::http::Body::Empty)
    }

    #[test]
    fn round_robin_cycles_over_healthy_servers() {
        let b = Balancer::build(&LoadBalanceSpec::default()).unwrap();
        let ip = "127.0.0.1".parse().unwrap();
        let picks: Vec<_> = (0..5)
            .map(|_| b.choose(&[0, 2, 3], &[0; 4], &request(), ip).unwrap())
            .collect();
        assert_eq!(picks, vec![0, 2, 3, 0, 2]);
    }

    #[test]
    fn weighted_draw_never_picks_zero_weight() {
        for _ in 0..1000 {
            assert_ne!(weighted(&[0, 1], &[0, 5]), 0);
        }
    }

    #[test]
    fn fnv_matches_reference_values() {
        assert_eq!(fnv32(b""), 0x811c9dc5);
        assert_eq!(fnv32(b"a"), 0xe40c292c);
    }
}
