//! The token endpoint's grants (RFC 6749 §4.1.3, §4.4, §6): exchanging a code (once; a code
//! presented again revokes what it issued), rotating a refresh token (a spent one presented
//! again revokes its family), and a client's token for itself.

use crate::domain::oauth::OAuth;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};

use super::authorize::verifier_matches;
use super::store::{self, Grant, Issued, Lifetimes, Minting, find, revoke_family};
use crate::auth::jwt::TokenIssuer;
use crate::auth::refresh::{digest, random_text};
use crate::db::entities::{oauth_codes, oauth_tokens};
use crate::domain::now_ms;
use crate::domain::oauth_clients::{Client, Scope, Scopes, parse_scopes};
use crate::error::{Error, OAuthCode, Result};

const CODE_REPLAYED: &str = "the code was already used: the tokens it issued are revoked";

fn invalid_grant(description: &'static str) -> Error {
    Error::oauth(OAuthCode::InvalidGrant, description)
}

/// What presenting a code or a refresh token came to.
enum Outcome {
    Issued(Issued),
    /// Presented again: what it issued is revoked now.
    Replayed,
    Refused(Error),
}

impl Outcome {
    fn into_result(self, replayed: &'static str) -> Result<Issued> {
        match self {
            Outcome::Issued(issued) => Ok(issued),
            Outcome::Replayed => Err(invalid_grant(replayed)),
            Outcome::Refused(err) => Err(err),
        }
    }
}

/// The scopes a token request asks for: at most `allowed`, all of them when it names none.
fn asked_scopes(scope: Option<&str>, allowed: Scopes) -> Result<Scopes> {
    let Some(scope) = scope.filter(|s| !s.trim().is_empty()) else {
        return Ok(allowed);
    };
    let asked =
        parse_scopes(scope).map_err(|_| Error::oauth(OAuthCode::InvalidScope, "unknown scope"))?;
    if allowed.covers(asked) {
        Ok(asked)
    } else {
        Err(Error::oauth(
            OAuthCode::InvalidScope,
            "the scope asked for exceeds what was granted",
        ))
    }
}

/// A code exchange's inputs beside the client.
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

impl OAuth {
    fn lifetimes(&self, refresh: bool) -> Lifetimes {
        Lifetimes {
            access: self.accounts.tokens.access_ttl,
            refresh: refresh.then_some(self.accounts.tokens.refresh_ttl),
        }
    }

    /// `grant_type=authorization_code`.
    pub async fn exchange_code(&self, client: &Client, exchange: CodeExchange) -> Result<Issued> {
        let code = oauth_codes::Entity::find()
            .filter(oauth_codes::Column::CodeDigest.eq(digest(&exchange.code)))
            .one(&self.core.db)
            .await?
            .filter(|code| code.client_id == client.id)
            .ok_or_else(|| invalid_grant("the code is invalid"))?;
        if code.used_at.is_some() {
            let (family, now) = (code.family.clone(), now_ms());
            self.core
                .in_transaction(|txn| {
                    let family = family.clone();
                    Box::pin(async move { revoke_family(txn, &family, now).await })
                })
                .await?;
            return Err(invalid_grant(CODE_REPLAYED));
        }
        let redirect_matches = match (&code.redirect_uri, &exchange.redirect_uri) {
            (Some(expected), Some(sent)) => expected == sent,
            (Some(_), None) => false,
            (None, sent) => sent
                .as_ref()
                .is_none_or(|s| client.redirect_uris.contains(s)),
        };
        if !redirect_matches {
            return Err(invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        match (&code.code_challenge, exchange.code_verifier.as_deref()) {
            (Some(challenge), verifier) => {
                if !verifier_matches(verifier.unwrap_or_default(), challenge) {
                    return Err(invalid_grant(
                        "the code_verifier does not match the code_challenge",
                    ));
                }
            }
            // A verifier for a code issued without a challenge is a downgrade (RFC 9700
            // §4.8.2): whoever sends it expected PKCE to protect this code.
            (None, Some(_)) => {
                return Err(invalid_grant(
                    "a code_verifier was sent, but the code was issued without code_challenge",
                ));
            }
            (None, None) => {}
        }
        let lifetimes = || self.lifetimes(true);
        let outcome = self
            .core
            .in_transaction(|txn| {
                let code = code.clone();
                let lifetimes = lifetimes();
                Box::pin(async move { spend_code(txn, &code, lifetimes).await })
            })
            .await?;
        outcome.into_result(CODE_REPLAYED)
    }

    /// `grant_type=refresh_token`: a new access token (narrowed to `scope` if asked) and a new
    /// refresh token for the same scopes as the one spent.
    pub async fn refresh_grant(
        &self,
        client: &Client,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<Issued> {
        let token = find(&self.core.db, refresh_token)
            .await?
            .filter(|token| token.refresh && token.client_id == client.id)
            .ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
        let granted = Scopes::stored(&token.scopes);
        let scopes = asked_scopes(scope, granted)?;
        if let Some(user_id) = token.user_id
            && !self.grant_still_valid(user_id, token.granted_at).await?
        {
            return Err(invalid_grant("the refresh token was revoked"));
        }
        let outcome = self
            .core
            .in_transaction(|txn| {
                let (token, tokens) = (token.clone(), self.accounts.tokens.clone());
                let lifetimes = self.lifetimes(true);
                let presented = refresh_token.to_owned();
                Box::pin(async move {
                    let rotation = (&tokens, presented.as_str());
                    spend_refresh(txn, &token, scopes, lifetimes, rotation).await
                })
            })
            .await?;
        outcome.into_result("the refresh token was already used: its grant is revoked")
    }

    /// `grant_type=client_credentials`: a token for the (confidential) client itself, acting
    /// for no user.
    pub async fn client_credentials_grant(
        &self,
        client: &Client,
        scope: Option<&str>,
    ) -> Result<Issued> {
        if !client.confidential {
            return Err(Error::oauth(
                OAuthCode::UnauthorizedClient,
                "only confidential clients may use client_credentials",
            ));
        }
        // Acting for no user, the token can only read what anyone may: it says so (RFC 6749
        // §3.3 lets the server narrow what was asked, and the answer names what was granted).
        let scopes = asked_scopes(scope, client.scopes)?.intersection(Scopes::of(&[Scope::Read]));
        if scopes.is_empty() {
            return Err(Error::oauth(
                OAuthCode::InvalidScope,
                "a client's own token can only read (scope read)",
            ));
        }
        let family = random_text(16);
        let grant = Grant {
            family: &family,
            client: client.id,
            user_id: None,
            granted_at: now_ms(),
        };
        let lifetimes = self.lifetimes(false);
        Ok(store::issue(
            &self.core.db,
            &grant,
            scopes,
            scopes,
            lifetimes,
            Minting::Random,
        )
        .await?)
    }

    /// Whether a grant made at `granted_at` survives the user's last password change or
    /// "log out everywhere" (and the user still exists).
    pub(super) async fn grant_still_valid(&self, user_id: i64, granted_at: i64) -> Result<bool> {
        match self.accounts.account(user_id).await {
            Ok(account) => Ok(granted_at >= account.tokens_valid_after),
            Err(Error::Unauthorized(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// Spends `code` (one statement decides between concurrent exchanges) and issues its tokens;
/// a code already spent revokes what it issued.
async fn spend_code(
    txn: &DatabaseTransaction,
    code: &oauth_codes::Model,
    lifetimes: Lifetimes,
) -> Result<Outcome, DbErr> {
    let now = now_ms();
    let spent = oauth_codes::Entity::update_many()
        .col_expr(oauth_codes::Column::UsedAt, Expr::value(now))
        .filter(oauth_codes::Column::Id.eq(code.id))
        .filter(oauth_codes::Column::UsedAt.is_null())
        .filter(oauth_codes::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?
        .rows_affected;
    if spent == 0 {
        let used = oauth_codes::Entity::find_by_id(code.id)
            .one(txn)
            .await?
            .is_some_and(|c| c.used_at.is_some());
        if used {
            revoke_family(txn, &code.family, now).await?;
            return Ok(Outcome::Replayed);
        }
        return Ok(Outcome::Refused(invalid_grant("the code has expired")));
    }
    let grant = Grant {
        family: &code.family,
        client: code.client_id,
        user_id: Some(code.user_id),
        granted_at: now,
    };
    let scopes = Scopes::stored(&code.scopes);
    let issued = store::issue(txn, &grant, scopes, scopes, lifetimes, Minting::Random).await?;
    Ok(Outcome::Issued(issued))
}

/// Spends a refresh token for the next of its family. One spent already is a retry within the
/// reuse window (answered with the same successors), after it reuse (the family is revoked).
async fn spend_refresh(
    txn: &DatabaseTransaction,
    token: &oauth_tokens::Model,
    scopes: Scopes,
    lifetimes: Lifetimes,
    (tokens, presented): (&TokenIssuer, &str),
) -> Result<Outcome, DbErr> {
    let minting = Minting::Successors {
        tokens,
        spent: presented,
    };
    let now = now_ms();
    let spent = oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::SpentAt, Expr::value(now))
        .filter(oauth_tokens::Column::Id.eq(token.id))
        .filter(oauth_tokens::Column::SpentAt.is_null())
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .filter(oauth_tokens::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?
        .rows_affected;
    if spent == 0 {
        let current = oauth_tokens::Entity::find_by_id(token.id).one(txn).await?;
        let window = tokens.reuse_window.as_millis() as i64;
        if let Some(current) = &current
            && current.revoked_at.is_none()
            && current.spent_at.is_some_and(|at| now - at < window)
        {
            return Ok(Outcome::Issued(minting.reissued(scopes, &lifetimes)));
        }
        if current.is_some_and(|t| t.spent_at.is_some() && t.revoked_at.is_none()) {
            revoke_family(txn, &token.family, now).await?;
            return Ok(Outcome::Replayed);
        }
        return Ok(Outcome::Refused(invalid_grant(
            "the refresh token is expired or revoked",
        )));
    }
    let grant = Grant {
        family: &token.family,
        client: token.client_id,
        user_id: token.user_id,
        granted_at: token.granted_at,
    };
    let refresh_scopes = Scopes::stored(&token.scopes);
    let issued = store::issue(txn, &grant, scopes, refresh_scopes, lifetimes, minting).await?;
    Ok(Outcome::Issued(issued))
}
