//! A steady HTTP load for tests that change Weir while traffic flows: several workers
//! loop on one URL until stopped, and every answer is tallied.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the load saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub ok: usize,
    /// Anything but a 200 with an `x-backend` header: status or error text.
    pub failures: Vec<String>,
    /// Answers per `x-backend` value.
    pub by_backend: HashMap<String, usize>,
    pub elapsed: Duration,
}

impl Tally {
    pub fn requests_per_second(&self) -> f64 {
        (self.ok + self.failures.len()) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

pub struct Load {
    stop: Arc<AtomicBool>,
    started: Instant,
    workers: Vec<tokio::task::JoinHandle<Tally>>,
}

impl Load {
    /// Starts `workers` loops of GET `url`, each on its own keep-alive connection.
    pub fn start(url: &str, workers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..workers)
            .map(|_| {
                let stop = stop.clone();
                let url = url.to_string();
                tokio::spawn(async move {
                    let client = reqwest::Client::builder().no_proxy().build().unwrap();
                    let mut tally = Tally::default();
                    while !stop.load(Ordering::Relaxed) {
                        match client.get(&url).send().await {
                            Ok(response) => {
                                let status = response.status();
                                let backend = response
                                    .headers()
                                    .get("x-backend")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string);
                                let _ = response.bytes().await;
                                match (status.as_u16(), backend) {
                                    (200, Some(name)) => {
                                        tally.ok += 1;
                                        *tally.by_backend.entry(name).or_default() += 1;
                                    }
                                    (code, name) => tally.failures.push(format!("status {code} from {name:?}")),
                                }
                            }
                            Err(e) => tally.failures.push(format!("error: {e}")),
                        }
                    }
                    tally
                })
            })
            .collect();
        Load {
            stop,
            started: Instant::now(),
            workers,
        }
    }

    /// Stops the workers and adds up what they saw.
    pub async fn stop(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Tally {
            elapsed: self.started.elapsed(),
            ..Default::default()
        };
        for worker in self.workers {
            let tally = worker.await.unwrap();
            total.ok += tally.ok;
            total.failures.extend(tally.failures);
            for (name, count) in tally.by_backend {
                *total.by_backend.entry(name).or_default() += count;
            }
        }
        total
    }
}
