//! Shared counters for the `state` import: atomic add and compare-and-swap, optional
//! TTL, one scope per filter of a pipeline, exact across threads.
//!
//! A scope is a mutex-guarded map. Every operation is one short critical section, so
//! operations are linearisable and counts are exact however many instances and threads
//! use it. Scopes live in a registry keyed by pipeline and filter name, so a rebuilt
//! pipeline (a hot swap) finds the counters of the filter it replaces.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Counter {
    value: i64,
    expires: Option<Instant>,
}

impl Counter {
    fn live_at(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }

    /// Its value, unless it has expired by `now` (an expired counter reads as absent).
    fn value_at(&self, now: Instant) -> Option<i64> {
        self.live_at(now).then_some(self.value)
    }
}

/// The counters of one filter of one pipeline.
#[derive(Debug, Default)]
pub struct StateScope {
    counters: Mutex<Counters>,
}

/// The map, and when to next drop its expired keys.
#[derive(Debug, Default)]
struct Counters {
    map: HashMap<String, Counter>,
    /// An expired key is dropped when it is next read, but a key that is never read
    /// again (the rate limiter's counter of a past period) would stay for good. So once
    /// the map reaches this size it is swept, and the mark set at twice what is left:
    /// a sweep's cost is spread over at least as many new keys as it kept.
    sweep_at: usize,
}

/// The smallest map that is ever swept.
const FIRST_SWEEP: usize = 64;

fn expiry(now: Instant, ttl_millis: Option<u64>) -> Option<Instant> {
    ttl_millis.map(|ms| now + Duration::from_millis(ms))
}

impl Counters {
    /// The live value of `key`, dropping it if it has expired.
    fn live(&mut self, key: &str, now: Instant) -> Option<i64> {
        let value = self.map.get(key)?.value_at(now);
        if value.is_none() {
            self.map.remove(key);
        }
        value
    }

    /// Adds a key that is not in the map, sweeping expired keys first when the map has
    /// reached its mark.
    fn insert_new(&mut self, key: &str, counter: Counter, now: Instant) {
        if self.map.len() >= self.sweep_at.max(FIRST_SWEEP) {
            self.map.retain(|_, c| c.live_at(now));
            self.sweep_at = self.map.len() * 2;
        }
        self.map.insert(key.to_string(), counter);
    }
}

impl StateScope {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    // `add` and `compare_and_swap` find an existing key with one lookup and update it in
    // place: the common case (the same key counted again) allocates nothing. One clock
    // read serves both the liveness check and the new expiry.

    pub fn add(&self, key: &str, delta: i64, ttl_millis: Option<u64>) -> i64 {
        let mut counters = self.lock();
        let now = Instant::now();
        let expires = expiry(now, ttl_millis);
        if let Some(counter) = counters.map.get_mut(key) {
            let value = counter.value_at(now).unwrap_or(0).wrapping_add(delta);
            *counter = Counter { value, expires };
            return value;
        }
        counters.insert_new(key, Counter { value: delta, expires }, now);
        delta
    }

    pub fn get(&self, key: &str) -> Option<i64> {
        self.lock().live(key, Instant::now())
    }

    pub fn compare_and_swap(&self, key: &str, expected: Option<i64>, new: i64, ttl_millis: Option<u64>) -> bool {
        let mut counters = self.lock();
        let now = Instant::now();
        let swapped = Counter {
            value: new,
            expires: expiry(now, ttl_millis),
        };
        match counters.map.get_mut(key) {
            Some(counter) if counter.value_at(now) == expected => *counter = swapped,
            Some(_) => return false,
            None if expected.is_none() => counters.insert_new(key, swapped, now),
            None => return false,
        }
        true
    }

    pub fn remove(&self, key: &str) {
        self.lock().map.remove(key);
    }

    /// How many keys the scope holds, live or not yet swept.
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.lock().map.len()
    }
}

/// Scopes by (pipeline, filter), held weakly: a scope lives while some version of its
/// filter does, so counters survive a rebuild but not the filter's removal.
type Scopes = Mutex<HashMap<(String, String), Weak<StateScope>>>;

fn registry() -> &'static Scopes {
    static REGISTRY: OnceLock<Scopes> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// The scope of `filter` in `pipeline`, shared with any live version of the same filter.
pub fn scope_for(pipeline: &str, filter: &str) -> Arc<StateScope> {
    let mut scopes = registry().lock().unwrap_or_else(|e| e.into_inner());
    scopes.retain(|_, scope| scope.strong_count() > 0);
    let key = (pipeline.to_string(), filter.to_string());
    if let Some(scope) = scopes.get(&key).and_then(Weak::upgrade) {
        return scope;
    }
    let scope = Arc::new(StateScope::default());
    scopes.insert(key, Arc::downgrade(&scope));
    scope
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_compare_and_swap_are_exact_across_threads() {
        let scope = Arc::new(StateScope::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let scope = scope.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        scope.add("hits", 1, None);
                        loop {
                            let seen = scope.get("cas");
                            if scope.compare_and_swap("cas", seen, seen.unwrap_or(0) + 1, None) {
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(scope.get("hits"), Some(8000));
        assert_eq!(scope.get("cas"), Some(8000));
    }

    #[test]
    fn a_key_expires_after_its_ttl() {
        let scope = StateScope::default();
        scope.add("k", 5, Some(0));
        assert_eq!(scope.get("k"), None);
        assert_eq!(scope.add("k", 1, None), 1);
        assert!(!scope.compare_and_swap("k", Some(7), 9, None));
        assert!(scope.compare_and_swap("k", Some(1), 9, None));
        assert_eq!(scope.get("k"), Some(9));
        scope.remove("k");
        assert_eq!(scope.get("k"), None);
    }

    /// An expired counter still in the map (not read since it expired) is updated in
    /// place, and must read as absent there too.
    #[test]
    fn an_expired_key_not_yet_dropped_reads_as_absent() {
        let scope = StateScope::default();
        scope.add("a", 5, Some(0));
        assert_eq!(scope.add("a", 1, None), 1, "add counts from zero");
        scope.add("c", 5, Some(0));
        assert!(
            !scope.compare_and_swap("c", Some(5), 9, None),
            "the expired value does not match"
        );
        assert!(scope.compare_and_swap("c", None, 4, None), "absent matches");
        assert_eq!(scope.get("c"), Some(4));
    }

    /// Keys that expire and are never read again (the rate limiter makes one per
    /// period) must not pile up: the map is swept as it grows.
    #[test]
    fn expired_keys_that_are_never_read_again_are_swept() {
        let scope = StateScope::default();
        scope.add("kept", 1, None);
        for period in 0..10_000 {
            scope.add(&format!("period/{period}"), 1, Some(0));
        }
        assert!(scope.keys() <= FIRST_SWEEP, "{} keys held", scope.keys());
        assert_eq!(scope.get("kept"), Some(1));
        for period in 0..1_000 {
            scope.add(&format!("live/{period}"), 1, None);
        }
        assert_eq!(scope.keys(), 1_001, "a sweep dropped a live key");
    }

    #[test]
    fn scopes_are_per_filter_and_survive_while_held() {
        let a = scope_for("p", "f");
        a.add("n", 2, None);
        assert_eq!(scope_for("p", "f").get("n"), Some(2));
        assert_eq!(scope_for("p", "g").get("n"), None);
        drop(a);
        assert_eq!(scope_for("p", "f").get("n"), None);
    }
}
