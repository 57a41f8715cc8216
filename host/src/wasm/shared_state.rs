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

/// The counters of one filter of one pipeline.
#[derive(Debug, Default)]
pub struct StateScope {
    counters: Mutex<HashMap<String, Counter>>,
}

fn expiry(ttl_millis: Option<u64>) -> Option<Instant> {
    ttl_millis.map(|ms| Instant::now() + Duration::from_millis(ms))
}

impl StateScope {
    fn live(map: &mut HashMap<String, Counter>, key: &str) -> Option<i64> {
        let counter = *map.get(key)?;
        if counter.expires.is_some_and(|at| at <= Instant::now()) {
            map.remove(key);
            return None;
        }
        Some(counter.value)
    }

    pub fn add(&self, key: &str, delta: i64, ttl_millis: Option<u64>) -> i64 {
        let mut map = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let value = Self::live(&mut map, key).unwrap_or(0).wrapping_add(delta);
        let expires = expiry(ttl_millis);
        map.insert(key.to_string(), Counter { value, expires });
        value
    }

    pub fn get(&self, key: &str) -> Option<i64> {
        let mut map = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        Self::live(&mut map, key)
    }

    pub fn compare_and_swap(&self, key: &str, expected: Option<i64>, new: i64, ttl_millis: Option<u64>) -> bool {
        let mut map = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        if Self::live(&mut map, key) != expected {
            return false;
        }
        let expires = expiry(ttl_millis);
        map.insert(key.to_string(), Counter { value: new, expires });
        true
    }

    pub fn remove(&self, key: &str) {
        self.counters.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
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
