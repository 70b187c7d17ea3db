//! Requests Quire makes to addresses its users chose (webhook receivers), guarded against
//! server-side request forgery: only http(s), and never to loopback, private, link-local,
//! multicast, reserved or cloud-metadata addresses unless the host is explicitly allowed
//! (`QUIRE_WEBHOOK_ALLOW_HOSTS`). The check runs when a URL is registered and again on every
//! request, inside the HTTP client's resolver, so that a name re-pointed at an internal address
//! after registration (DNS rebinding) is refused too: the client connects only to the addresses
//! that passed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Client, Url};

/// The longest a request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a URL may not be requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("must be an absolute http or https URL")]
    NotHttp,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("{0} does not resolve")]
    Unresolvable(String),
    #[error("{host} resolves to {addr}, a {class} address")]
    Forbidden {
        host: String,
        addr: IpAddr,
        class: &'static str,
    },
}

/// The hosts exempt from the address check, and the client that enforces it.
#[derive(Clone)]
pub struct Outbound {
    allowed: Arc<Vec<String>>,
    client: Client,
}

impl Outbound {
    /// `allowed_hosts`: names or IP literals (case-insensitive) that may be internal.
    pub fn new(allowed_hosts: Vec<String>) -> anyhow::Result<Outbound> {
        let allowed: Arc<Vec<String>> = Arc::new(
            allowed_hosts
                .into_iter()
                .map(|host| normalize_host(&host))
                .collect(),
        );
        let client = Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver {
                allowed: allowed.clone(),
            }))
            .user_agent(concat!("Quire-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Outbound { allowed, client })
    }

    /// The client to send with; its resolver refuses forbidden addresses. Call [`Self::check`]
    /// first: a URL naming an IP address is not resolved, so only `check` sees it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Parses `url` and checks that it may be requested now.
    pub async fn check(&self, url: &str) -> Result<Url, Refusal> {
        let url = Url::parse(url).map_err(|_| Refusal::NotHttp)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::NotHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let host = normalize_host(url.host_str().ok_or(Refusal::NotHttp)?);
        if self.is_allowed(&host) {
            return Ok(url);
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| Refusal::Unresolvable(host.clone()))?
                .map(|addr| addr.ip())
                .collect(),
        };
        vet(&host, addrs.into_iter()).map(|_| url)
    }

    fn is_allowed(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.allowed.contains(&host)
    }
}

fn normalize_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Resolves names for the client, keeping only the answer when every address is public.
struct GuardedResolver {
    allowed: Arc<Vec<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = normalize_host(name.as_str());
        let allowed = self.allowed.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allowed {
                vet(&host, addrs.iter().map(SocketAddr::ip))?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Refuses the lot when any address is forbidden: a name that resolves to one public and one
/// internal address could be steered to the internal one.
fn vet(host: &str, addrs: impl Iterator<Item = IpAddr>) -> Result<(), Refusal> {
    let mut any = false;
    for addr in addrs {
        any = true;
        if let Some(class) = forbidden_class(addr) {
            return Err(Refusal::Forbidden {
                host: host.to_owned(),
                addr,
                class,
            });
        }
    }
    if any {
        Ok(())
    } else {
        Err(Refusal::Unresolvable(host.to_owned()))
    }
}

/// The class of an address no user-chosen request may reach, or `None` for a public one.
pub fn forbidden_class(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        // 169.254.169.254 (AWS, GCP, Azure) is link-local; the others are named below.
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        _ if ip.is_broadcast() => "broadcast",
        // Carrier-grade NAT (100.64.0.0/10), which also holds Alibaba's 100.100.100.200.
        _ if a == 100 && (64..128).contains(&b) => "metadata or shared",
        // IETF protocol assignments (192.0.0.0/24: Oracle's metadata at 192.0.0.192).
        _ if a == 192 && b == 0 && c == 0 => "metadata or reserved",
        _ if a >= 240 => "reserved",
        // Benchmarking (198.18.0.0/15) and documentation ranges are never real receivers.
        _ if a == 198 && (b & 0xfe) == 18 => "reserved",
        _ if ip.is_documentation() => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(match () {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        // fc00::/7, which holds AWS's metadata at fd00:ec2::254.
        _ if ip.is_unique_local() => "private",
        _ if ip.is_unicast_link_local() => "link-local",
        _ if ip.is_multicast() => "multicast",
        // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an
        // IPv4 address that could be internal.
        _ if first == 0 => "reserved",
        _ if first == 0x64 && ip.segments()[1] == 0xff9b => "reserved",
        _ if first == 0x2002 => "reserved",
        // Documentation (2001:db8::/32).
        _ if first == 0x2001 && ip.segments()[1] == 0xdb8 => "reserved",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_internal_class_is_refused_and_public_addresses_pass() {
        for (addr, class) in [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("fd00:ec2::254", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("100.100.100.200", "metadata or shared"),
            ("192.0.0.192", "metadata or reserved"),
        ] {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(forbidden_class(ip), Some(class), "{addr}");
        }
        for public in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"] {
            assert_eq!(forbidden_class(public.parse().unwrap()), None, "{public}");
        }
    }
}
