//! The bounds of the numeric settings: lifetimes, pool size, time-outs and body limits.

use anyhow::bail;

use super::RawSettings;

/// Refuses a numeric setting outside its bounds, naming it.
pub(super) fn check(raw: &RawSettings) -> anyhow::Result<()> {
    if raw.jwt_ttl_seconds < 60 || raw.jwt_ttl_seconds > 30 * 86_400 {
        bail!("QUIRE_JWT_TTL_SECONDS must be between 60 and 2592000");
    }
    if !(60..=86_400).contains(&raw.access_token_ttl_seconds) {
        bail!("QUIRE_ACCESS_TOKEN_TTL_SECONDS must be between 60 and 86400");
    }
    if !(3_600..=365 * 86_400).contains(&raw.refresh_token_ttl_seconds) {
        bail!("QUIRE_REFRESH_TOKEN_TTL_SECONDS must be between 3600 and 31536000");
    }
    if raw.refresh_reuse_seconds > 60 {
        bail!("QUIRE_REFRESH_REUSE_SECONDS must be between 0 and 60");
    }
    if !(60..=365 * 86_400).contains(&raw.session_idle_seconds)
        || !(raw.session_idle_seconds..=365 * 86_400).contains(&raw.session_max_age_seconds)
    {
        bail!(
            "QUIRE_SESSION_IDLE_SECONDS must be between 60 and 31536000, and \
             QUIRE_SESSION_MAX_AGE_SECONDS between it and 31536000"
        );
    }
    if raw.db_max_connections == 0 || raw.db_max_connections > 1000 {
        bail!("QUIRE_DB_MAX_CONNECTIONS must be between 1 and 1000");
    }
    if raw.request_timeout_seconds == 0 {
        bail!("QUIRE_REQUEST_TIMEOUT_SECONDS must be at least 1");
    }
    for (name, value) in [
        ("QUIRE_BODY_TIMEOUT_SECONDS", raw.body_timeout_seconds),
        ("QUIRE_HEADER_TIMEOUT_SECONDS", raw.header_timeout_seconds),
        (
            "QUIRE_DB_ACQUIRE_TIMEOUT_SECONDS",
            raw.db_acquire_timeout_seconds,
        ),
    ] {
        if !(1..=3600).contains(&value) {
            bail!("{name} must be between 1 and 3600");
        }
    }
    if raw.graphql_max_response_bytes < 64 * 1024 {
        bail!("QUIRE_GRAPHQL_MAX_RESPONSE_BYTES must be at least 65536");
    }
    if raw.max_body_bytes < 1024 {
        bail!("QUIRE_MAX_BODY_BYTES must be at least 1024");
    }
    Ok(())
}
