//! Misbehaves on purpose, by path: `/trap` traps, `/spin` never returns, `/hog`
//! allocates until it hits the memory cap. Any other path gets `x-faulty: fine`.

use weir_sdk::{Config, Exchange, Filter, Outcome};

struct Faulty;

impl Filter for Faulty {
    fn new(_: Config) -> Result<Self, String> {
        Ok(Faulty)
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        match request.path().as_str() {
            "/trap" => panic!("this filter traps on /trap"),
            "/spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/hog" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            _ => {
                let _ = request.set_header("x-faulty", "fine");
                Outcome::Continue
            }
        }
    }
}

weir_sdk::export_filter!(Faulty);
