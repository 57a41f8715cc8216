//! Misbehaves on purpose, by path: `/trap` traps, `/spin` never returns, `/hog`
//! allocates until it hits the memory cap, `/sleep` sleeps 5 ms (breaking its promise
//! if it made one). `/eprint` writes a line to stderr and gets `x-faulty: printed`; any
//! other path gets `x-faulty: fine`. With config `{neverWaits: true}` it promises that
//! its calls never wait.

use weir_sdk::{clock, runtime, Config, Exchange, Filter, Outcome};

struct Faulty;

impl Filter for Faulty {
    fn new(config: Config) -> Result<Self, String> {
        let flags: std::collections::HashMap<String, bool> = config.parse()?;
        if flags.get("neverWaits") == Some(&true) {
            runtime::never_waits();
        }
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
            "/sleep" => {
                clock::sleep(5);
                let _ = request.set_header("x-faulty", "slept");
                Outcome::Continue
            }
            "/eprint" => {
                eprintln!("faulty: printing to stderr");
                let _ = request.set_header("x-faulty", "printed");
                Outcome::Continue
            }
            _ => {
                let _ = request.set_header("x-faulty", "fine");
                Outcome::Continue
            }
        }
    }
}

weir_sdk::export_filter!(Faulty);
