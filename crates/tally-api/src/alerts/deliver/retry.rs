//! When a failed delivery is tried again: exponential backoff with jitter, `Retry-After`
//! honoured up to a cap, and a last attempt after which it is given up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

/// How a failed attempt is retried. The defaults wait about 1, 2, 4 and 8 s between five
/// attempts (each wait drawn between half and all of its step, so receivers that failed
/// together are not hit again together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The step after the first failure; each later step doubles it.
    pub first_delay: Duration,
    /// Attempts in all, the first included; the last failure is final.
    pub max_attempts: u32,
    /// Longest wait a receiver's `Retry-After` may ask for.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::from_secs(1),
            max_attempts: 5,
            retry_after_cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Whether the attempt numbered `attempt` (1 for the first), having failed for a
    /// reason worth retrying, gets another.
    pub fn retries_after(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The wait after failed attempt `attempt` (1 for the first): its backoff step, drawn
    /// between half and all of `first_delay × 2^(attempt-1)`, or the receiver's
    /// `Retry-After` (at most `retry_after_cap`) when that is longer.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let step = self
            .first_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let half = step / 2;
        let jitter = rand::rng().random_range(Duration::ZERO..=step - half);
        let backoff = half + jitter;
        match retry_after {
            Some(asked) => backoff.max(asked.min(self.retry_after_cap)),
            None => backoff,
        }
    }
}

/// A `Retry-After` value: delay seconds, or an HTTP date (a wait until then).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}
