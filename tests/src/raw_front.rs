//! A Weir in front of an echo backend, spoken to with raw bytes: for tests of how the
//! server reads requests and frames answers, byte by byte.

use crate::net::{free_port, raw_exchange};
use crate::{Backend, Weir};
use std::net::SocketAddr;
use std::time::Duration;

pub struct RawFront {
    _weir: Weir,
    pub backend: Backend,
    pub addr: SocketAddr,
}

impl RawFront {
    /// Weir proxying every request to a fresh echo backend. `server_fields` are extra
    /// HTTPServer fields, one per line (`clientMaxBodySize: 100`), or empty.
    pub async fn start(server_fields: &str) -> RawFront {
        let backend = Backend::start("echo").await;
        let port = free_port();
        let config = crate::yaml::front_and_proxy(port, &backend.url()).replacen(
            "rules:\n",
            &format!("{server_fields}\nrules:\n"),
            1,
        );
        let weir = Weir::start(&config, &[port]);
        RawFront {
            _weir: weir,
            backend,
            addr: ([127, 0, 0, 1], port).into(),
        }
    }

    /// Sends `raw` on a fresh connection and returns all that comes back until the
    /// server closes it.
    pub fn send(&self, raw: &str) -> String {
        raw_exchange(self.addr, raw.as_bytes(), Duration::from_secs(5))
    }
}
