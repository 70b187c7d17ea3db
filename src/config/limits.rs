//! Rate-limit settings: a quota per route class and the proxies whose `X-Forwarded-For` counts.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{anyhow, bail};
use ipnet::IpNet;

/// At most `count` requests per `period`, as a burst or spread out (GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub count: u32,
    pub period: Duration,
}

impl Quota {
    /// Parses `N/s`, `N/min` or `N/h` (also `N/sec`, `N/m`, `N/hour`), naming `setting` on error.
    pub fn parse(setting: &str, text: &str) -> anyhow::Result<Quota> {
        let invalid =
            || anyhow!("{setting} must look like `10/min` (N/s, N/min or N/h), got `{text}`");
        let (count, unit) = text.trim().split_once('/').ok_or_else(invalid)?;
        let count: u32 = count.trim().parse().map_err(|_| invalid())?;
        let period = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(invalid()),
        };
        if count == 0 || count > 1_000_000 {
            bail!("{setting} must allow between 1 and 1000000 requests per period, got `{text}`");
        }
        Ok(Quota { count, period })
    }

    /// The window in whole seconds, as the `RateLimit-Policy` header states it.
    pub fn window_seconds(&self) -> u64 {
        self.period.as_secs()
    }
}

/// The quotas of every route class, or none at all.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Sign-in, registration, session login, token and refresh: per client address.
    pub auth: Quota,
    /// Sign-in attempts per account, whatever address they come from.
    pub login_failures: Quota,
    /// Writes per signed-in user (per client address when anonymous).
    pub write: Quota,
    /// Reads per signed-in user, per client address when anonymous.
    pub read: Quota,
    /// Mail sent about one account (verification, password reset), whoever asks.
    pub mail: Quota,
    /// Peers whose `X-Forwarded-For` names the client; everyone else is the client.
    pub trusted_proxies: Vec<IpNet>,
}

impl RateLimitSettings {
    pub(super) fn parse(
        enabled: bool,
        [auth, login_failures, write, read, mail]: [&str; 5],
        trusted_proxies: &str,
    ) -> anyhow::Result<Self> {
        Ok(RateLimitSettings {
            enabled,
            auth: Quota::parse("QUIRE_RATE_LIMIT_AUTH", auth)?,
            login_failures: Quota::parse("QUIRE_RATE_LIMIT_LOGIN_FAILURES", login_failures)?,
            write: Quota::parse("QUIRE_RATE_LIMIT_WRITE", write)?,
            read: Quota::parse("QUIRE_RATE_LIMIT_READ", read)?,
            mail: Quota::parse("QUIRE_RATE_LIMIT_MAIL", mail)?,
            trusted_proxies: parse_networks(trusted_proxies)?,
        })
    }
}

/// A comma-separated list of CIDR blocks or single addresses.
fn parse_networks(list: &str) -> anyhow::Result<Vec<IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow!(
                        "QUIRE_TRUSTED_PROXIES must be a comma-separated list of addresses or \
                         CIDR blocks (like 10.0.0.0/8), got `{item}`"
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_read_as_written() {
        let quota = Quota::parse("X", "10/min").unwrap();
        assert_eq!((quota.count, quota.window_seconds()), (10, 60));
        assert_eq!(Quota::parse("X", " 5 / s ").unwrap().window_seconds(), 1);
        assert_eq!(Quota::parse("X", "100/h").unwrap().window_seconds(), 3600);
        for bad in ["", "10", "0/min", "-1/min", "10/day", "ten/min", "10/min/s"] {
            assert!(Quota::parse("X", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proxies_are_networks_or_addresses() {
        let networks = parse_networks("10.0.0.0/8, 127.0.0.1 ,::1").unwrap();
        assert_eq!(networks.len(), 3);
        assert!(networks[1].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
        assert!(parse_networks("").unwrap().is_empty());
        assert!(parse_networks("10.0.0.0/33").is_err());
        assert!(parse_networks("proxy.local").is_err());
    }
}
