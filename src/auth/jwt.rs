//! HS256 access tokens. Only HS256 is accepted, so `alg: none` and algorithm-confusion tokens
//! are rejected before the signature is even considered.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{Error, Result};

const ISSUER: &str = "quire";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
    /// `iat` in milliseconds, so that a token issued just after a revocation (in the same
    /// second) is told from one issued just before it. Older tokens fall back to `iat`.
    #[serde(default)]
    iat_ms: u64,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy)]
pub struct Verified {
    pub user_id: i64,
    /// When it was issued, in milliseconds since the Unix epoch.
    pub issued_at_ms: i64,
}

#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    /// Keys the credentials a rotation derives from the credential it spends.
    successor_key: Vec<u8>,
    /// Lifetimes of the bearer access token and the refresh token of `POST /api/auth/token`.
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// How long after a refresh token is spent presenting it again is taken for a retry (it
    /// gets the same successor) rather than for theft (its family is revoked).
    pub reuse_window: Duration,
}

impl TokenIssuer {
    /// `ttl` is the RealWorld token's lifetime; `access_ttl` and `refresh_ttl` those of a
    /// bearer and refresh token pair.
    pub fn new(secret: &[u8], ttl: Duration, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.leeway = 30;
        TokenIssuer {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            successor_key: derive_key(secret, b"quire credential successor"),
            access_ttl,
            refresh_ttl,
            reuse_window: Duration::ZERO,
        }
    }

    pub fn with_reuse_window(mut self, window: Duration) -> Self {
        self.reuse_window = window;
        self
    }

    /// The credential (for `purpose`) that rotating `spent` issues: derived, not random, so a
    /// retry of the same rotation within the reuse window is answered with the same one, and
    /// only by whoever holds `spent`.
    pub fn successor(&self, spent: &str, purpose: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.successor_key)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(spent.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A token with the configured lifetime (the RealWorld `user.token`).
    pub fn issue(&self, user_id: i64) -> Result<String> {
        self.issue_for(user_id, self.ttl)
    }

    /// A token that lives for `ttl`.
    pub fn issue_for(&self, user_id: i64, ttl: Duration) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let claims = Claims {
            sub: user_id.to_string(),
            iss: ISSUER.to_owned(),
            iat: now.as_secs(),
            exp: now.as_secs() + ttl.as_secs(),
            iat_ms: now.as_millis() as u64,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(e.into()))
    }

    /// Who a valid token was issued for, and when.
    pub fn verify(&self, token: &str) -> Result<Verified> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| Error::Unauthorized("invalid or expired token"))?
            .claims;
        let user_id = claims
            .sub
            .parse()
            .map_err(|_| Error::Unauthorized("invalid or expired token"))?;
        let issued_at_ms = match claims.iat_ms {
            0 => claims.iat.saturating_mul(1000),
            ms => ms,
        };
        Ok(Verified {
            user_id,
            issued_at_ms: i64::try_from(issued_at_ms).unwrap_or(i64::MAX),
        })
    }
}

/// A key for one use (`label`) derived from the server's secret.
fn derive_key(secret: &[u8], label: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(label);
    mac.finalize().into_bytes().to_vec()
}
