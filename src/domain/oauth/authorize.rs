//! Authorization requests (RFC 6749 §4.1 with PKCE, RFC 7636): checking one, remembering a
//! user's consent, issuing the code, and the redirect back to the client.

use crate::domain::oauth::OAuth;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::store::{CODE_PREFIX, credential};
use crate::auth::refresh::{digest, random_text};
use crate::db::entities::{oauth_codes, oauth_consents, users};
use crate::domain::email::messages;
use crate::domain::now_ms;
use crate::domain::oauth_clients::{Client, Scopes, find, parse_scopes};
use crate::error::{Error, OAuthCode};

/// How long a code can be exchanged.
const CODE_LIFETIME_MS: i64 = 60_000;
const MAX_STATE_BYTES: usize = 1024;

/// The parameters of `GET /oauth/authorize`, repeated by the consent form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizationParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A request that can be answered: the client, where its user goes back to, what it asks for.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub client: Client,
    pub redirect_uri: String,
    /// Whether the request named the redirect URI (then the exchange must name it too).
    redirect_uri_sent: bool,
    pub scopes: Scopes,
    state: Option<String>,
    code_challenge: Option<String>,
}

/// Why a request cannot be answered.
#[derive(Debug)]
pub enum Refusal {
    /// The client or its redirect URI cannot be trusted: the user is told, never sent there
    /// (RFC 6749 §4.1.2.1).
    Shown(String),
    /// Sent back to the client (the redirect URI with `error` and `state`).
    Redirected(String),
    Failed(Error),
}

impl From<Error> for Refusal {
    fn from(err: Error) -> Self {
        Refusal::Failed(err)
    }
}

impl ValidRequest {
    /// The redirect URI with `params` (and the request's `state`) added to its query.
    fn redirect_with(&self, params: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(params);
        if let Some(state) = &self.state {
            query.append_pair("state", state);
        }
        let separator = if self.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}{}", self.redirect_uri, query.finish())
    }

    fn error(&self, code: OAuthCode, description: &str) -> Refusal {
        Refusal::Redirected(
            self.redirect_with(&[("error", code.as_str()), ("error_description", description)]),
        )
    }

    /// Where the user goes after saying no.
    pub fn denied(&self) -> String {
        self.redirect_with(&[
            ("error", OAuthCode::AccessDenied.as_str()),
            ("error_description", "the user did not allow access"),
        ])
    }
}

/// `text` is a PKCE value: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
fn is_pkce_text(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Whether `verifier` is the one `challenge` was made from (S256).
pub(super) fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    is_pkce_text(verifier)
        && bool::from(
            URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()))
                .as_bytes()
                .ct_eq(challenge.as_bytes()),
        )
}

impl OAuth {
    /// Checks an authorization request. The client and redirect URI first: until both are
    /// known good, nothing is sent anywhere.
    pub async fn check_authorization(
        &self,
        params: &AuthorizationParams,
    ) -> Result<ValidRequest, Refusal> {
        let client_id = params
            .client_id
            .as_deref()
            .ok_or_else(|| Refusal::Shown("the request names no client (client_id)".into()))?;
        let client = find(&self.core.db, client_id).await?.ok_or_else(|| {
            Refusal::Shown("no application is registered as this client_id".into())
        })?;
        let redirect_uri = match (&params.redirect_uri, client.redirect_uris.as_slice()) {
            (Some(sent), registered) if registered.iter().any(|uri| uri == sent) => sent.clone(),
            (Some(_), _) => {
                return Err(Refusal::Shown(
                    "the redirect_uri is not one registered for this application".into(),
                ));
            }
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(Refusal::Shown(
                    "this application has several redirect URIs: the request must name one".into(),
                ));
            }
        };
        let mut request = ValidRequest {
            redirect_uri_sent: params.redirect_uri.is_some(),
            redirect_uri,
            scopes: client.scopes,
            state: params.state.clone(),
            code_challenge: None,
            client,
        };
        if request
            .state
            .as_ref()
            .is_some_and(|s| s.len() > MAX_STATE_BYTES)
        {
            request.state = None;
            return Err(request.error(OAuthCode::InvalidRequest, "state is too long"));
        }
        match params.response_type.as_deref() {
            Some("code") => {}
            None => {
                return Err(request.error(OAuthCode::InvalidRequest, "response_type is missing"));
            }
            Some(_) => {
                return Err(request.error(
                    OAuthCode::UnsupportedResponseType,
                    "only response_type=code is supported",
                ));
            }
        }
        if let Some(scope) = params.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            let asked = match parse_scopes(scope) {
                Ok(asked) => asked,
                Err(_) => return Err(request.error(OAuthCode::InvalidScope, "unknown scope")),
            };
            if !request.client.scopes.covers(asked) {
                return Err(request.error(
                    OAuthCode::InvalidScope,
                    "this application may not ask for that scope",
                ));
            }
            request.scopes = asked;
        }
        // OAuth 2.1: every client; confidential ones may be let off by the setting.
        let required = !request.client.confidential || self.require_pkce;
        match pkce_challenge(params, required) {
            Ok(challenge) => request.code_challenge = challenge,
            Err(reason) => return Err(request.error(OAuthCode::InvalidRequest, reason)),
        }
        Ok(request)
    }

    /// Whether `user_id` already allowed this client every scope the request asks for.
    pub async fn consent_remembered(
        &self,
        user_id: i64,
        request: &ValidRequest,
    ) -> Result<bool, Error> {
        let consent = oauth_consents::Entity::find()
            .filter(oauth_consents::Column::UserId.eq(user_id))
            .filter(oauth_consents::Column::ClientId.eq(request.client.id))
            .one(&self.core.db)
            .await?;
        Ok(consent.is_some_and(|c| Scopes::stored(&c.scopes).covers(request.scopes)))
    }

    /// The user allowed the request: remembers the consent (adding to what was allowed
    /// before) and issues a code. Returns where to send the user: back to the client, with it.
    pub async fn approve(&self, user_id: i64, request: &ValidRequest) -> Result<String, Error> {
        let code = credential(CODE_PREFIX);
        let now = now_ms();
        let (client, scopes) = (request.client.id, request.scopes);
        let code_row = oauth_codes::ActiveModel {
            code_digest: Set(digest(&code)),
            family: Set(random_text(16)),
            client_id: Set(client),
            user_id: Set(user_id),
            redirect_uri: Set(request
                .redirect_uri_sent
                .then(|| request.redirect_uri.clone())),
            scopes: Set(scopes.names()),
            code_challenge: Set(request.code_challenge.clone()),
            created_at: Set(now),
            expires_at: Set(now + CODE_LIFETIME_MS),
            ..Default::default()
        };
        let application = request.client.name.clone();
        self.core
            .in_transaction::<_, sea_orm::DbErr, _>(|txn| {
                let (code_row, accounts, application) =
                    (code_row.clone(), self.accounts.clone(), application.clone());
                Box::pin(async move {
                    let previous = oauth_consents::Entity::find()
                        .filter(oauth_consents::Column::UserId.eq(user_id))
                        .filter(oauth_consents::Column::ClientId.eq(client))
                        .one(txn)
                        .await?
                        .map_or(Scopes::default(), |c| Scopes::stored(&c.scopes));
                    if !previous.covers(scopes)
                        && let Some(user) = users::Entity::find_by_id(user_id).one(txn).await?
                    {
                        let notice = messages::application_authorized(
                            &accounts.mail.site_name,
                            &user.email,
                            &user.username,
                            &application,
                            &scopes.names(),
                        );
                        accounts.send_mail(txn, notice).await?;
                    }
                    oauth_consents::Entity::insert(oauth_consents::ActiveModel {
                        user_id: Set(user_id),
                        client_id: Set(client),
                        scopes: Set(previous.union(scopes).names()),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    })
                    .on_conflict(
                        OnConflict::columns([
                            oauth_consents::Column::UserId,
                            oauth_consents::Column::ClientId,
                        ])
                        .update_columns([
                            oauth_consents::Column::Scopes,
                            oauth_consents::Column::UpdatedAt,
                        ])
                        .to_owned(),
                    )
                    .exec_without_returning(txn)
                    .await?;
                    oauth_codes::Entity::insert(code_row)
                        .exec_without_returning(txn)
                        .await?;
                    Ok(())
                })
            })
            .await?;
        Ok(request.redirect_with(&[("code", &code)]))
    }
}

/// The request's PKCE challenge (none when not `required` and not sent), or why it cannot be
/// used.
fn pkce_challenge(
    params: &AuthorizationParams,
    required: bool,
) -> std::result::Result<Option<String>, &'static str> {
    match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, _) if required => Err("code_challenge is required (PKCE with S256)"),
        (None, None) => Ok(None),
        (None, Some(_)) => Err("code_challenge is missing"),
        (Some(challenge), Some("S256")) if is_pkce_text(challenge) => {
            Ok(Some(challenge.to_owned()))
        }
        (Some(_), Some("S256")) => Err("malformed code_challenge"),
        (Some(_), _) => Err("code_challenge_method must be S256"),
    }
}
