//! Rate limits per route class, shared by every instance.
//!
//! Each check is GCRA (the generic cell rate algorithm): a key's state is one "theoretical
//! arrival time", so a quota of N per period allows a burst of N and then one request every
//! period / N. With Redis the state lives there and an atomic script spends it, on Redis's
//! clock, so every instance draws on the same budget (busy keys lease a few cells at a time,
//! see [`shared`]). Without Redis, or while it
//! does not answer, an in-process `governor` limiter with the same quota decides: limits
//! degrade to per instance, they never fail a request and never switch off.

mod local;
mod shared;

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::cache::Cache;
use crate::config::{Quota, RateLimitSettings};

use self::local::LocalLimiter;
use self::shared::SharedLimiter;

/// What a request spends budget on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Auth,
    LoginFailures,
    Write,
    Read,
    /// Mail about one account, keyed by its address.
    Mail,
}

impl Class {
    const ALL: [Class; 5] = [
        Class::Auth,
        Class::LoginFailures,
        Class::Write,
        Class::Read,
        Class::Mail,
    ];

    /// The policy's name in the `RateLimit-Policy` and `RateLimit` headers.
    pub fn name(self) -> &'static str {
        match self {
            Class::Auth => "auth",
            Class::LoginFailures => "login",
            Class::Write => "write",
            Class::Read => "read",
            Class::Mail => "mail",
        }
    }
}

/// The outcome of one check, with what the response headers report.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub class: Class,
    pub quota: Quota,
    pub allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Until the whole quota is available again.
    pub reset: Duration,
    /// Until the next request would be allowed (zero when this one was).
    pub retry_after: Duration,
}

impl Decision {
    /// `retry_after` in whole seconds, at least one: what `Retry-After` says.
    pub fn retry_after_seconds(&self) -> u64 {
        (self.retry_after.as_millis().div_ceil(1000) as u64).max(1)
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    cache: Cache,
    shared: SharedLimiter,
    classes: [ClassLimits; 5],
}

struct ClassLimits {
    quota: Quota,
    /// The period and emission interval in milliseconds, as the Redis script takes them.
    script_args: [String; 2],
    local: LocalLimiter,
}

impl ClassLimits {
    fn new(quota: Quota) -> ClassLimits {
        let period_ms = quota.period.as_millis() as f64;
        ClassLimits {
            quota,
            script_args: [
                format!("{period_ms}"),
                format!("{:.3}", period_ms / f64::from(quota.count)),
            ],
            local: LocalLimiter::new(quota),
        }
    }
}

impl RateLimiter {
    /// Limits as configured, shared through `cache` when it has Redis. Must be called on the
    /// Tokio runtime: a task forgets in-process keys that have recovered.
    pub fn new(settings: &RateLimitSettings, cache: Cache) -> RateLimiter {
        if !settings.enabled {
            return RateLimiter { inner: None };
        }
        let quota = |class| match class {
            Class::Auth => settings.auth,
            Class::LoginFailures => settings.login_failures,
            Class::Write => settings.write,
            Class::Read => settings.read,
            Class::Mail => settings.mail,
        };
        let inner = Arc::new(Inner {
            cache,
            shared: SharedLimiter::new(),
            classes: Class::ALL.map(|class| ClassLimits::new(quota(class))),
        });
        forget_recovered_keys(Arc::downgrade(&inner));
        RateLimiter { inner: Some(inner) }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Spends one request of `key`'s budget in `class`. `None` when limits are off.
    pub async fn check(&self, class: Class, key: String) -> Option<Decision> {
        let inner = self.inner.as_ref()?;
        let limits = &inner.classes[class as usize];
        let shared = match inner.cache.has_redis() {
            true => {
                inner
                    .shared
                    .check(&inner.cache, class, limits.quota, &limits.script_args, &key)
                    .await
            }
            false => None,
        };
        let decision = shared.unwrap_or_else(|| limits.local.check(class, limits.quota, key));
        if !decision.allowed {
            metrics::counter!("quire_rate_limit_refusals_total", "class" => class.name())
                .increment(1);
        }
        Some(decision)
    }
}

/// In-process state would otherwise grow with every client address ever seen.
fn forget_recovered_keys(inner: Weak<Inner>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            for limits in &inner.classes {
                limits.local.forget_recovered();
            }
            inner.shared.forget_expired();
        }
    });
}
