//! Signing in with OpenID Connect providers (the `openidconnect` crate): each provider's
//! discovery document and keys, fetched when first needed and kept for an hour (fetched again
//! at once when an ID token is signed with a key not seen yet); the authentication request
//! (state, nonce, PKCE S256); the code exchange and the ID token's checks (signature, issuer,
//! audience, expiry, nonce). What a verified identity may do is `domain::oidc`'s business.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::RwLock;

use crate::config::OidcProvider;
use crate::error::{Error, Result};

/// How long discovery and keys are trusted before they are fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// How long a user has at the provider before the attempt expires.
const ATTEMPT_TTL_SECONDS: u64 = 600;
const ATTEMPT_ISSUER: &str = "quire-oidc-attempt";

/// What the browser carries from `start` to `callback`, sealed (HMAC) in a cookie: nothing in
/// it is secret from the user whose sign-in it is, and nothing in it can be altered.
#[derive(Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Where the user goes afterwards (a path here, or an allowed app origin's URL).
    pub return_to: String,
    /// Hand the sign-in to a single-page app as a one-time code instead of a cookie session.
    pub spa: bool,
    iss: String,
    exp: u64,
}

/// The identity a verified ID token names.
#[derive(Debug, Clone)]
pub struct Identity {
    pub provider: String,
    pub subject: String,
    /// Lower-cased.
    pub email: Option<String>,
    pub email_verified: bool,
    pub preferred_username: Option<String>,
}

/// A client of a discovered provider: its authorization endpoint is known, its token and
/// user-info endpoints as discovery said.
type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Provider {
    config: OidcProvider,
    metadata: RwLock<Option<(Instant, CoreProviderMetadata)>>,
}

/// The configured providers and the means to talk to them.
pub struct OidcProviders {
    providers: Vec<Provider>,
    http: reqwest::Client,
    seal_key: Vec<u8>,
}

impl Attempt {
    /// When the attempt expires, in milliseconds since the epoch.
    pub fn expires_at_ms(&self) -> i64 {
        i64::try_from(self.exp.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

impl OidcProviders {
    /// `secret` is the server's JWT secret; attempts are sealed with a key derived from it.
    pub fn new(providers: &[OidcProvider], secret: &[u8]) -> Result<Self> {
        let http = reqwest::Client::builder()
            // The provider's endpoints are its own: a redirect is never followed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Internal(e.into()))?;
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
        mac.update(b"quire oidc attempt");
        Ok(OidcProviders {
            providers: providers
                .iter()
                .map(|config| Provider {
                    config: config.clone(),
                    metadata: RwLock::new(None),
                })
                .collect(),
            http,
            seal_key: mac.finalize().into_bytes().to_vec(),
        })
    }

    fn provider(&self, name: &str) -> Result<&Provider> {
        self.providers
            .iter()
            .find(|p| p.config.name == name)
            .ok_or(Error::NotFound("sign-in provider"))
    }

    /// The provider's discovery document (with its keys), from the cache unless `fresh`.
    async fn metadata(&self, provider: &Provider, fresh: bool) -> Result<CoreProviderMetadata> {
        if !fresh
            && let Some((fetched, metadata)) = &*provider.metadata.read().await
            && fetched.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(provider.config.issuer.clone())
            .map_err(|e| Error::Internal(e.into()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|err| {
                tracing::warn!(provider = %provider.config.name, error = %err, "OpenID Connect discovery failed");
                Error::Unavailable("the sign-in provider cannot be reached; try again shortly")
            })?;
        *provider.metadata.write().await = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    async fn client(
        &self,
        provider: &Provider,
        redirect_uri: &str,
        fresh: bool,
    ) -> Result<ProviderClient> {
        let metadata = self.metadata(provider, fresh).await?;
        let redirect =
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| Error::Internal(e.into()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.config.client_id.clone()),
            Some(ClientSecret::new(provider.config.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's authentication URL for a new attempt, and the attempt sealed for the
    /// cookie.
    pub async fn start(
        &self,
        name: &str,
        redirect_uri: &str,
        return_to: String,
        spa: bool,
    ) -> Result<(String, String)> {
        let provider = self.provider(name)?;
        let client = self.client(provider, redirect_uri, false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let attempt = Attempt {
            provider: name.to_owned(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            return_to,
            spa,
            iss: ATTEMPT_ISSUER.to_owned(),
            exp: now_seconds() + ATTEMPT_TTL_SECONDS,
        };
        Ok((url.to_string(), self.seal(&attempt)?))
    }

    /// Exchanges the provider's `code` (with the attempt's PKCE verifier) and verifies the ID
    /// token it answers with.
    pub async fn finish(
        &self,
        attempt: &Attempt,
        redirect_uri: &str,
        code: &str,
    ) -> Result<Identity> {
        let provider = self.provider(&attempt.provider)?;
        let client = self.client(provider, redirect_uri, false).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| Error::Internal(e.into()))?
            .set_pkce_verifier(PkceCodeVerifier::new(attempt.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|err| {
                tracing::warn!(provider = %attempt.provider, error = %err, "OpenID Connect code exchange failed");
                Error::Unauthorized("the sign-in provider refused the code")
            })?;
        let id_token = openidconnect::TokenResponse::id_token(&tokens)
            .ok_or(Error::Unauthorized("the sign-in provider sent no ID token"))?;
        let nonce = Nonce::new(attempt.nonce.clone());
        let refused = |err: ClaimsVerificationError| {
            tracing::warn!(provider = %attempt.provider, error = %err, "an ID token failed verification");
            Error::Unauthorized("the sign-in provider's ID token did not verify")
        };
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // Signed with a key published since the keys were fetched: fetch them again.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let fresh = self.client(provider, redirect_uri, true).await?;
                id_token
                    .claims(&fresh.id_token_verifier(), &nonce)
                    .map_err(refused)?
                    .clone()
            }
            Err(err) => return Err(refused(err)),
        };
        Ok(Identity {
            provider: attempt.provider.clone(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|email| email.as_str().to_lowercase()),
            email_verified: claims.email_verified() == Some(true),
            preferred_username: claims
                .preferred_username()
                .map(|name| name.as_str().to_owned()),
        })
    }

    fn seal(&self, attempt: &Attempt) -> Result<String> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            attempt,
            &EncodingKey::from_secret(&self.seal_key),
        )
        .map_err(|e| Error::Internal(e.into()))
    }

    /// The attempt sealed in a cookie, if it is ours and not expired.
    pub fn open(&self, sealed: &str) -> Option<Attempt> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ATTEMPT_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        jsonwebtoken::decode::<Attempt>(
            sealed,
            &DecodingKey::from_secret(&self.seal_key),
            &validation,
        )
        .ok()
        .map(|data| data.claims)
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}
