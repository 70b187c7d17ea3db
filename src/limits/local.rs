//! The in-process side: one `governor` keyed limiter per class, with the same quota as the
//! shared one.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

use super::{Class, Decision};
use crate::config::Quota;

type Keyed = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

pub(super) struct LocalLimiter {
    limiter: Keyed,
    clock: DefaultClock,
}

impl LocalLimiter {
    pub(super) fn new(quota: Quota) -> LocalLimiter {
        let burst = NonZeroU32::new(quota.count).unwrap_or(NonZeroU32::MIN);
        let quota = governor::Quota::with_period(quota.period / burst.get())
            .unwrap_or_else(|| governor::Quota::per_second(burst))
            .allow_burst(burst);
        LocalLimiter {
            limiter: governor::RateLimiter::keyed(quota).with_middleware(),
            clock: DefaultClock::default(),
        }
    }

    pub(super) fn check(&self, class: Class, quota: Quota, key: String) -> Decision {
        let emission = quota.period / quota.count;
        match self.limiter.check_key(&key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    class,
                    quota,
                    allowed: true,
                    remaining,
                    reset: emission * (quota.count - remaining),
                    retry_after: std::time::Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Decision {
                    class,
                    quota,
                    allowed: false,
                    remaining: 0,
                    reset: wait + emission * (quota.count - 1),
                    retry_after: wait,
                }
            }
        }
    }

    /// Drops the state of keys whose whole quota is available again.
    pub(super) fn forget_recovered(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
