//! Rate limits per route class, shared by every instance.
//!
//! Each check is GCRA (the generic cell rate algorithm): a key's state is one "theoretical
//! arrival time", so a quota of N per period allows a burst of N and then one request every
//! period / N. With Redis the state lives there and one atomic script decides each request,
//! with Redis's clock, so every instance draws on the same budget. Without Redis, or while it
//! does not answer, an in-process `governor` limiter with the same quota decides: limits
//! degrade to per instance, they never fail a request and never switch off.

mod local;

use std::sync::{Arc, LazyLock, Weak};
use std::time::Duration;

use crate::cache::Cache;
use crate::config::{Quota, RateLimitSettings};

use self::local::LocalLimiter;

/// What a request spends budget on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Auth,
    LoginFailures,
    Write,
    Read,
}

impl Class {
    const ALL: [Class; 4] = [Class::Auth, Class::LoginFailures, Class::Write, Class::Read];

    /// The policy's name in the `RateLimit-Policy` and `RateLimit` headers.
    pub fn name(self) -> &'static str {
        match self {
            Class::Auth => "auth",
            Class::LoginFailures => "login",
            Class::Write => "write",
            Class::Read => "read",
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

/// One atomic GCRA step on Redis. ARGV: period and emission interval in milliseconds.
/// Returns {allowed, remaining, retry after ms, reset ms}; the state expires once spent.
static GCRA: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local period = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + emission
if next_tat - now > period then
  return {0, 0, math.ceil(next_tat - now - period), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX', math.ceil(next_tat - now))
return {1, math.floor((period - (next_tat - now)) / emission), 0, math.ceil(next_tat - now)}
",
    )
});

#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    cache: Cache,
    classes: [(Quota, LocalLimiter); 4],
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
        };
        let inner = Arc::new(Inner {
            cache,
            classes: Class::ALL.map(|class| (quota(class), LocalLimiter::new(quota(class)))),
        });
        forget_recovered_keys(Arc::downgrade(&inner));
        RateLimiter { inner: Some(inner) }
    }

    /// Spends one request of `key`'s budget in `class`. `None` when limits are off.
    pub async fn check(&self, class: Class, key: &str) -> Option<Decision> {
        let inner = self.inner.as_ref()?;
        let (quota, local) = &inner.classes[class as usize];
        let period_ms = quota.period.as_millis() as f64;
        let args = [
            format!("{period_ms}"),
            format!("{:.3}", period_ms / f64::from(quota.count)),
        ];
        let key = format!("limit:{}:{key}", class.name());
        let shared = inner.cache.run_script(&GCRA, &[&key], &args).await;
        Some(match shared {
            Some(Ok(reply)) if reply.len() == 4 => {
                let millis = |value: i64| Duration::from_millis(value.max(0) as u64);
                Decision {
                    class,
                    quota: *quota,
                    allowed: reply[0] == 1,
                    remaining: u32::try_from(reply[1].max(0)).unwrap_or(u32::MAX),
                    retry_after: millis(reply[2]),
                    reset: millis(reply[3]),
                }
            }
            _ => local.check(class, *quota, key),
        })
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
            for (_, local) in &inner.classes {
                local.forget_recovered();
            }
        }
    });
}
