//! When to try again after a failed sync.

/// Retry timing after failures: about a second at first, doubling, at most
/// five minutes, with jitter so that many phones do not retry in step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

/// The longest wait between attempts.
pub const MAX_BACKOFF_MS: u64 = 5 * 60 * 1000;
const FIRST_BACKOFF_MS: u64 = 1000;

impl Backoff {
    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn fail(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// The wait before the next attempt; `jitter` is uniform in [0, 1).
    /// `retry_after_ms` (the server's `Retry-After`) wins when it is longer.
    pub fn delay_ms(&self, jitter: f64, retry_after_ms: Option<u64>) -> u64 {
        if self.failures == 0 {
            return retry_after_ms.unwrap_or(0);
        }
        let exponent = (self.failures - 1).min(20);
        let base = FIRST_BACKOFF_MS
            .saturating_mul(1 << exponent)
            .min(MAX_BACKOFF_MS);
        // Between half and all of the base delay.
        let jittered = (base as f64 * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as u64;
        jittered
            .max(retry_after_ms.unwrap_or(0))
            .min(MAX_BACKOFF_MS.max(retry_after_ms.unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_from_about_a_second_to_at_most_five_minutes() {
        let mut b = Backoff::default();
        assert_eq!(b.delay_ms(0.5, None), 0);
        b.fail();
        assert_eq!(b.delay_ms(0.0, None), 500);
        assert_eq!(b.delay_ms(1.0, None), 1000);
        b.fail();
        assert_eq!(b.delay_ms(1.0, None), 2000);
        for _ in 0..40 {
            b.fail();
        }
        assert_eq!(b.delay_ms(1.0, None), MAX_BACKOFF_MS);
        assert_eq!(b.delay_ms(0.0, None), MAX_BACKOFF_MS / 2);
        b.reset();
        assert_eq!(b.failures(), 0);
        b.fail();
        assert_eq!(
            b.delay_ms(0.0, Some(7_000)),
            7_000,
            "Retry-After wins when longer"
        );
    }
}
