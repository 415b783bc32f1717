//! Token-bucket rate limiting, per session token and per client IP: in memory with SQLite (one
//! instance), in the database with PostgreSQL, so every instance spends from one allowance.

use crate::store::Postgres;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before idle (full) ones are swept; keeps memory bounded under many clients.
const SWEEP_AT: usize = 10_000;

/// One key's bucket: tokens left and when they were last counted.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A key's name in the shared bucket table.
pub trait LimitKey: Hash + Eq + Clone {
    /// Text naming this key among the limiter's buckets.
    fn bucket(&self) -> String;
}

impl LimitKey for [u8; 32] {
    fn bucket(&self) -> String {
        crate::crypto::hex(self)
    }
}

impl LimitKey for std::net::IpAddr {
    fn bucket(&self) -> String {
        self.to_string()
    }
}

impl LimitKey for &str {
    fn bucket(&self) -> String {
        (*self).to_string()
    }
}

impl LimitKey for usize {
    fn bucket(&self) -> String {
        self.to_string()
    }
}

/// A token bucket per key: `per_minute` requests in a burst, refilled evenly over a minute.
pub struct RateLimiter<K> {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
    /// The database and this limiter's name in it, when buckets are shared by instances.
    shared: Option<(Postgres, &'static str)>,
}

impl<K> std::fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("capacity", &self.capacity)
            .field("shared", &self.shared.as_ref().map(|(_, name)| name))
            .finish()
    }
}

impl<K: LimitKey> RateLimiter<K> {
    /// A limiter allowing `per_minute` requests per key per minute (at least 1).
    pub fn per_minute(per_minute: u32) -> Self {
        let capacity = f64::from(per_minute.max(1));
        Self {
            capacity,
            per_second: capacity / 60.0,
            buckets: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// [`RateLimiter::per_minute`] with buckets in `db` (when given) under `name`, so every
    /// instance on that database spends from the same allowance.
    pub fn shared(per_minute: u32, db: Option<&Postgres>, name: &'static str) -> Self {
        Self {
            shared: db.map(|db| (db.clone(), name)),
            ..Self::per_minute(per_minute)
        }
    }

    /// Takes one request from `key`'s bucket now: `Ok` when allowed, otherwise the whole
    /// seconds to wait (at least 1). A shared bucket the database cannot answer for lets the
    /// request through (logged): the request then fails on the same database anyway, and an
    /// outage must not read as "too many attempts".
    pub async fn check(&self, key: &K) -> Result<(), u64> {
        match &self.shared {
            None => self.check_at(key, Instant::now()),
            Some((db, name)) => {
                let bucket = format!("{name}:{}", key.bucket());
                match db.take(&bucket, self.capacity, self.per_second).await {
                    Ok(answer) => answer,
                    Err(e) => {
                        tracing::warn!(error = %e, limiter = name, "shared rate limit unavailable");
                        Ok(())
                    }
                }
            }
        }
    }

    /// Whether `key` has a request left now, without taking it (see [`RateLimiter::check`]).
    pub async fn peek(&self, key: &K) -> Result<(), u64> {
        match &self.shared {
            None => self.peek_at(key, Instant::now()),
            Some((db, name)) => {
                let bucket = format!("{name}:{}", key.bucket());
                match db.peek(&bucket, self.capacity, self.per_second).await {
                    Ok(answer) => answer,
                    Err(e) => {
                        tracing::warn!(error = %e, limiter = name, "shared rate limit unavailable");
                        Ok(())
                    }
                }
            }
        }
    }

    /// Takes one request from `key`'s in-memory bucket at `now`: `Ok` when allowed, otherwise the whole
    /// seconds to wait before the next one is allowed (at least 1).
    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT && !buckets.contains_key(key) {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err((wait.ceil() as u64).max(1))
        }
    }

    /// Whether `key` has a request left at `now`, without taking it: `Err` with the seconds to
    /// wait when its bucket is empty.
    pub fn peek_at(&self, key: &K, now: Instant) -> Result<(), u64> {
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = buckets.get(key) else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        let tokens = (bucket.tokens + elapsed * self.per_second).min(self.capacity);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err((((1.0 - tokens) / self.per_second).ceil() as u64).max(1))
        }
    }

    /// Number of keys currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let l = RateLimiter::per_minute(3);
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at(&"a", t), Ok(()));
        }
        assert_eq!(l.check_at(&"a", t), Err(20), "one token per 20 s");
        assert_eq!(l.check_at(&"b", t), Ok(()), "keys are independent");
        assert_eq!(l.check_at(&"a", t + Duration::from_secs(19)), Err(1));
        assert_eq!(l.check_at(&"a", t + Duration::from_secs(21)), Ok(()));
    }

    #[test]
    fn peeking_never_spends() {
        let l = RateLimiter::per_minute(1);
        let t = Instant::now();
        assert_eq!(l.peek_at(&"a", t), Ok(()));
        assert_eq!(l.peek_at(&"a", t), Ok(()));
        assert_eq!(l.check_at(&"a", t), Ok(()));
        assert_eq!(l.peek_at(&"a", t), Err(60));
    }

    #[test]
    fn idle_keys_are_swept_when_many_are_tracked() {
        let l = RateLimiter::per_minute(60);
        let t = Instant::now();
        for i in 0..SWEEP_AT {
            l.check_at(&i, t).unwrap();
        }
        assert_eq!(l.tracked(), SWEEP_AT);
        l.check_at(&usize::MAX, t + Duration::from_secs(2)).unwrap();
        assert_eq!(l.tracked(), 1);
    }
}
