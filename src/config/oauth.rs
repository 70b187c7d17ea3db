//! Signing in from elsewhere: the external base URL this server gives out (OAuth2 metadata,
//! OpenID Connect redirect URIs) and the OpenID Connect providers people may sign in with.

use anyhow::{Context, bail};
use serde::Deserialize;

/// An OpenID Connect provider (`QUIRE_OIDC_PROVIDERS`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// The name in `/auth/oidc/{name}/start`: lower-case letters, digits and `-`.
    pub name: String,
    /// The issuer; its discovery document is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

// The secret never reaches the log through Debug.
impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

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

/// `QUIRE_OIDC_PROVIDERS`: a JSON array of `{"name", "issuer", "client_id", "client_secret"}`.
/// Production wants `https` issuers (plain `http` is for a provider on this machine).
pub(super) fn parse_oidc_providers(
    raw: &str,
    production: bool,
) -> anyhow::Result<Vec<OidcProvider>> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    let providers: Vec<OidcProvider> = serde_json::from_str(raw).context(
        "QUIRE_OIDC_PROVIDERS must be a JSON array of \
         {\"name\", \"issuer\", \"client_id\", \"client_secret\"}",
    )?;
    for (index, provider) in providers.iter().enumerate() {
        let name = &provider.name;
        if name.is_empty()
            || name.len() > 40
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            bail!(
                "QUIRE_OIDC_PROVIDERS[{index}].name must be 1-40 lower-case letters, digits or '-'"
            );
        }
        if providers[..index].iter().any(|other| other.name == *name) {
            bail!("QUIRE_OIDC_PROVIDERS names `{name}` twice");
        }
        let issuer: axum::http::Uri = provider
            .issuer
            .parse()
            .with_context(|| format!("QUIRE_OIDC_PROVIDERS[{name}].issuer is not a URL"))?;
        match issuer.scheme_str() {
            Some("https") => {}
            Some("http") if !production => {}
            _ => bail!("QUIRE_OIDC_PROVIDERS[{name}].issuer must be an https URL"),
        }
        if provider.client_id.is_empty() || provider.client_secret.is_empty() {
            bail!("QUIRE_OIDC_PROVIDERS[{name}] needs a client_id and a client_secret");
        }
    }
    Ok(providers)
}
