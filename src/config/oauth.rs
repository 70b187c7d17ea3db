//! Where this server is reachable from outside: OAuth2 metadata names its endpoints with it.

use anyhow::bail;

/// `QUIRE_PUBLIC_URL`: the external base URL (scheme and host, maybe a path), without a
/// trailing slash; `None` when unset (the request's `Host` stands in).
pub(super) fn parse_public_url(raw: &str) -> anyhow::Result<Option<String>> {
    let raw = raw.trim().trim_end_matches('/');
    if raw.is_empty() {
        return Ok(None);
    }
    let uri: axum::http::Uri = match raw.parse() {
        Ok(uri) => uri,
        Err(_) => bail!("QUIRE_PUBLIC_URL must be a URL like https://quire.example, got `{raw}`"),
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        bail!("QUIRE_PUBLIC_URL must be an http(s) URL with a host, got `{raw}`");
    }
    if uri.query().is_some() || raw.contains('#') {
        bail!("QUIRE_PUBLIC_URL must not have a query or fragment");
    }
    Ok(Some(raw.to_owned()))
}
