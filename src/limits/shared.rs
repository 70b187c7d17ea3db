//! The shared side: GCRA state in Redis, spent by one atomic script, and leases that spare a
//! busy key a Redis round trip per request.
//!
//! A lease is a few cells of a key's budget reserved in Redis at once and then spent here, so
//! no instance can ever let through more than the shared budget holds (unused cells are simply
//! lost when the lease expires: limits err on the strict side). Leases are earned: a key starts
//! with single cells, and each lease spent before it expires doubles the next, up to a
//! twentieth of the quota (at most [`MAX_LEASE`]); quotas under 40 (sign-ins, writes) are
//! therefore always exact. A busy key reserves its next cells when half of its lease is spent,
//! one request at a time, so the others never wait for Redis.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::{Class, Decision};
use crate::cache::Cache;
use crate::config::Quota;

/// The most cells one reservation takes.
const MAX_LEASE: u32 = 1024;
/// How long leased cells may be spent here.
const LEASE_TTL: Duration = Duration::from_secs(1);

/// Reserves up to ARGV[3] cells of KEYS[1]'s budget (ARGV: period and emission interval in
/// milliseconds, cells wanted), as many as fit. Returns {cells granted (0: refused), cells
/// still free, retry after ms, reset ms}, on Redis's clock; the state expires once spent.
static GCRA: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local period = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local fit = math.floor((period - (tat - now)) / emission + 0.0001)
if fit < 1 then
  return {0, 0, math.ceil(tat + emission - now - period), math.ceil(tat - now)}
end
local granted = math.min(wanted, fit)
local next_tat = tat + granted * emission
redis.call('SET', KEYS[1], string.format('%.3f', next_tat), 'PX', math.ceil(next_tat - now))
return {granted, fit - granted, 0, math.ceil(next_tat - now)}
",
    )
});

/// Cells of one key reserved for this instance.
struct Lease {
    /// Cells still to spend here.
    left: u32,
    /// The size of the last reservation: the next is twice as large while the key stays busy.
    size: u32,
    /// Free cells in Redis at the last reservation.
    free: u32,
    reset_at: Instant,
    expires: Instant,
    /// A request is reserving more cells already.
    refilling: bool,
}

/// What a request does after looking at its key's lease.
enum Step {
    /// Spent a leased cell; maybe also reserves `refill` more before the lease runs dry.
    Spent(Decision, Option<u32>),
    /// No cell here: reserve this many in Redis.
    Reserve(u32),
}

const SHARDS: usize = 16;

pub(super) struct SharedLimiter {
    shards: [Mutex<HashMap<String, Lease>>; SHARDS],
}

impl SharedLimiter {
    pub(super) fn new() -> SharedLimiter {
        SharedLimiter {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Lease>> {
        let mut hasher = std::hash::DefaultHasher::new();
        key.hash(&mut hasher);
        &self.shards[hasher.finish() as usize % SHARDS]
    }

    /// Spends a cell of `key`'s shared budget; `None` when Redis did not answer.
    pub(super) async fn check(
        &self,
        cache: &Cache,
        class: Class,
        quota: Quota,
        period_and_emission: &[String; 2],
        key: &str,
    ) -> Option<Decision> {
        let key = format!("limit:{}:{key}", class.name());
        let most = (quota.count / 20).clamp(1, MAX_LEASE);
        let step = self.spend_leased(&key, class, quota, most);
        let (spent, wanted) = match step {
            Step::Spent(decision, None) => return Some(decision),
            Step::Spent(decision, Some(refill)) => (Some(decision), refill),
            Step::Reserve(wanted) => (None, wanted),
        };
        let args = [
            period_and_emission[0].clone(),
            period_and_emission[1].clone(),
            wanted.to_string(),
        ];
        let reply = cache.run_script(&GCRA, &[&key], &args).await;
        let reserved = match reply {
            Some(Ok(reply)) => match reply.as_slice() {
                &[granted, free, retry_after, reset] => Some((granted, free, retry_after, reset)),
                _ => None,
            },
            _ => None,
        };
        let Some((granted, free, retry_after, reset)) = reserved else {
            self.end_refill(&key);
            // A cell spent from the lease stands; otherwise the caller falls back in-process.
            return spent;
        };
        let millis = |value: i64| Duration::from_millis(value.max(0) as u64);
        let granted = u32::try_from(granted.max(0)).unwrap_or(0);
        let free = u32::try_from(free.max(0)).unwrap_or(u32::MAX);
        // The reserving request keeps one of the new cells unless it already spent an old one.
        let own = u32::from(spent.is_none() && granted > 0);
        let now = Instant::now();
        {
            let mut shard = self.shard(&key).lock().unwrap_or_else(|e| e.into_inner());
            let lease = shard.entry(key).or_insert(Lease {
                left: 0,
                size: 0,
                free: 0,
                reset_at: now,
                expires: now,
                refilling: false,
            });
            if lease.expires <= now {
                lease.left = 0;
            }
            lease.left += granted - own;
            lease.size = lease.size.max(granted).max(1);
            lease.free = free;
            lease.reset_at = now + millis(reset);
            lease.expires = now + LEASE_TTL;
            lease.refilling = false;
        }
        Some(spent.unwrap_or(Decision {
            class,
            quota,
            allowed: granted > 0,
            remaining: free + granted.saturating_sub(1),
            reset: millis(reset),
            retry_after: millis(retry_after),
        }))
    }

    /// Takes a leased cell if there is one, and says whether (and how many) to reserve.
    fn spend_leased(&self, key: &str, class: Class, quota: Quota, most: u32) -> Step {
        let now = Instant::now();
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let Some(lease) = shard.get_mut(key) else {
            return Step::Reserve(1);
        };
        if lease.expires <= now {
            // Idle for a while: start small again (the unused cells are lost).
            lease.left = 0;
            lease.size = 1;
            return Step::Reserve(1);
        }
        if lease.left == 0 {
            // Spent within its lifetime: this key is busy, so reserve more at once.
            return Step::Reserve((lease.size * 2).min(most));
        }
        lease.left -= 1;
        let decision = Decision {
            class,
            quota,
            allowed: true,
            remaining: lease.free + lease.left,
            reset: lease.reset_at.saturating_duration_since(now),
            retry_after: Duration::ZERO,
        };
        // Half spent: one request reserves the next cells while the rest keep spending these.
        let refill = (!lease.refilling && lease.left < lease.size / 2).then(|| {
            lease.refilling = true;
            (lease.size * 2).min(most)
        });
        Step::Spent(decision, refill)
    }

    fn end_refill(&self, key: &str) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lease) = shard.get_mut(key) {
            lease.refilling = false;
        }
    }

    /// Drops expired leases (their cells are lost anyway).
    pub(super) fn forget_expired(&self) {
        let now = Instant::now();
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.retain(|_, lease| lease.expires > now);
            shard.shrink_to_fit();
        }
    }
}
