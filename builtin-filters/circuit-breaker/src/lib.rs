//! `kind: CircuitBreaker`, a guard: it counts the outcomes of the step it guards in a
//! sliding window and, when too many fail or are slow, opens: for
//! `waitDurationInOpenState` every request is answered 503 with the result
//! `shortCircuited` without running the step. Then it lets a few trial calls through
//! (half-open) and closes again if they go well.
//!
//! Everything lives in the host's shared state, so the breaker is one breaker across
//! every instance and worker thread, and survives a hot swap of its pipeline. The
//! breaker's state and its generation share one counter, changed only by
//! compare-and-swap: exactly one request performs each transition, and the window
//! counters of a generation are left behind (to expire) when it ends.

mod settings;
mod window;

use settings::Settings;
use weir_sdk::{clock, state, BuiltResponse, Config, Exchange, Filter, Outcome, Phases};
use window::Tally;

/// Where the breaker is, with its generation: `generation * 4 + phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    generation: i64,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

const POSITION: &str = "position";

impl Position {
    fn read() -> Position {
        let raw = state::get(POSITION).unwrap_or(0);
        let phase = match raw & 3 {
            1 => Phase::Open,
            2 => Phase::HalfOpen,
            _ => Phase::Closed,
        };
        Position {
            generation: raw >> 2,
            phase,
        }
    }

    fn raw(self) -> i64 {
        (self.generation << 2) | self.phase as i64
    }

    /// Moves to `phase` in the next generation, if nobody moved first. The winner
    /// stamps when the new generation began.
    fn advance(self, phase: Phase, now: u64) -> bool {
        let next = Position {
            generation: self.generation + 1,
            phase,
        };
        let expected = if self.raw() == 0 { None } else { Some(self.raw()) };
        // A fresh breaker has no counter yet; creating it at 0 first keeps one CAS path.
        if expected.is_none() {
            state::compare_and_swap(POSITION, None, 0, None);
        }
        if state::compare_and_swap(POSITION, Some(self.raw()), next.raw(), None) {
            state::add(&next.key("since"), now as i64, Some(window::KEY_TTL_MILLIS));
            true
        } else {
            false
        }
    }

    /// A state key of this generation.
    fn key(self, name: &str) -> String {
        format!("{}/{name}", self.generation)
    }

    fn since(self) -> u64 {
        state::get(&self.key("since")).unwrap_or(0).max(0) as u64
    }
}

pub struct CircuitBreaker {
    settings: Settings,
}

fn now_millis() -> u64 {
    clock::monotonic_nanos() / 1_000_000
}

impl CircuitBreaker {
    /// Whether a call may go ahead now.
    fn admit(&self, now: u64) -> bool {
        let mut position = Position::read();
        loop {
            match position.phase {
                Phase::Closed => return true,
                Phase::Open => {
                    if now.saturating_sub(position.since()) < self.settings.wait_in_open {
                        return false;
                    }
                    position.advance(Phase::HalfOpen, now);
                    position = Position::read();
                }
                Phase::HalfOpen => {
                    let max_wait = self.settings.max_wait_in_half_open;
                    if max_wait > 0 && now.saturating_sub(position.since()) >= max_wait {
                        // Trial calls did not come back in time: open again.
                        position.advance(Phase::Open, now);
                        position = Position::read();
                        continue;
                    }
                    let permit = state::add(&position.key("permits"), 1, Some(window::KEY_TTL_MILLIS));
                    return permit <= i64::from(self.settings.half_open_calls);
                }
            }
        }
    }

    /// Counts one finished call and moves the breaker if the counts say so.
    fn record(&self, failed: bool, slow: bool, now: u64) {
        let position = Position::read();
        let tally = match position.phase {
            Phase::Open => return,
            Phase::Closed => {
                let prefix = position.key(&self.settings.window.tag());
                self.settings.window.record(&prefix, failed, slow, now)
            }
            Phase::HalfOpen => window::record_trial(&position.key("trial"), failed, slow),
        };
        match position.phase {
            Phase::Closed if tally.calls >= self.settings.minimum_calls && self.exceeded(&tally) => {
                position.advance(Phase::Open, now);
            }
            Phase::HalfOpen if tally.calls >= i64::from(self.settings.half_open_calls) => {
                let next = if self.exceeded(&tally) {
                    Phase::Open
                } else {
                    Phase::Closed
                };
                position.advance(next, now);
            }
            _ => {}
        }
    }

    fn exceeded(&self, tally: &Tally) -> bool {
        let rate = |n: i64| n as f64 * 100.0 / tally.calls.max(1) as f64;
        rate(tally.failures) >= self.settings.failure_rate || rate(tally.slow) >= self.settings.slow_rate
    }
}

impl Filter for CircuitBreaker {
    const PHASES: Phases = Phases::BOTH;

    fn new(config: Config) -> Result<Self, String> {
        // It counts outcomes in shared state and reads the clock; nothing it does waits.
        weir_sdk::runtime::never_waits();
        Ok(CircuitBreaker {
            settings: Settings::parse(&config)?,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        if self.admit(now_millis()) {
            return Outcome::Continue;
        }
        let response = BuiltResponse::new(503);
        match exchange.set_response(response) {
            Ok(()) => Outcome::Result("shortCircuited".into()),
            Err(e) => Outcome::Respond(BuiltResponse::new(500).body(format!("CircuitBreaker: {e}\n"))),
        }
    }

    fn on_response(&self, exchange: &Exchange) -> Outcome {
        let Some(result) = exchange.guarded_result() else {
            return Outcome::Continue;
        };
        // A client that went away says nothing about the guarded service.
        if result == "clientError" {
            return Outcome::Continue;
        }
        let micros = exchange.guarded_micros().unwrap_or(0);
        let slow = micros >= self.settings.slow_call_micros;
        self.record(!result.is_empty(), slow, now_millis());
        Outcome::Continue
    }
}

weir_sdk::export_filter!(CircuitBreaker);

#[cfg(test)]
mod tests;
