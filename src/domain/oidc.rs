//! Who signs in with an identity an OpenID Connect provider vouched for: the user it is linked
//! to; else the signed-in user, who links it; else the account with the same e-mail, only when
//! both sides proved the address (the provider verified it, and so did the account's owner);
//! else a new account. An account that only *claims* the address (never proved it) does not
//! capture a verified identity: the identity gets an account of its own and the claim is
//! released. An address the provider did not verify is never used. And the one-time code that hands such a sign-in to a single-page app.

use crate::domain::accounts::Accounts;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::cache_keys::Write;
use super::email::{placeholder, release_claim};
use super::now_ms;
use super::users::SignedIn;
use super::users::new_account;
use super::values::{USERNAME_MAX, Username};
use crate::auth::oidc::Identity;
use crate::auth::password;
use crate::auth::refresh::{digest, random_text};
use crate::db::entities::{login_handoffs, oidc_attempts_spent, user_identities, users};
use crate::db::{is_unique_violation, unique_violation_column};
use crate::error::{Error, Result};

/// How long a single-page app has to exchange its one-time code.
const HANDOFF_LIFETIME_MS: i64 = 60_000;
const MAX_SUBJECT_BYTES: usize = 255;

impl Accounts {
    /// The user `identity` signs in as (linking or creating as the rules above say);
    /// `signed_in` is the user of the browser's session, if any.
    pub async fn sign_in_with(&self, identity: &Identity, signed_in: Option<i64>) -> Result<i64> {
        if identity.subject.is_empty() || identity.subject.len() > MAX_SUBJECT_BYTES {
            return Err(Error::Unauthorized("the provider named no usable subject"));
        }
        if let Some(linked) = self.linked_user(identity).await? {
            return match signed_in {
                Some(current) if current != linked => Err(Error::Conflict(
                    "this provider account is already linked to another user",
                )),
                _ => Ok(linked),
            };
        }
        if let Some(current) = signed_in {
            self.link(identity, current).await?;
            return Ok(current);
        }
        let email = identity
            .email
            .clone()
            .ok_or_else(|| Error::field("email", "the provider did not share an e-mail address"))?;
        let holder = users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.core.db)
            .await?;
        match holder {
            Some(user) if identity.email_verified && user.email_verified_at.is_some() => {
                self.link(identity, user.id).await?;
                Ok(user.id)
            }
            // The address's owner, proven by the provider, against a mere claim on it.
            Some(_) if identity.email_verified => self.create_from(identity, &email).await,
            Some(_) => Err(Error::Conflict(
                "an account with this e-mail exists, and the provider has not verified the \
                 address: sign in with your password, then sign in with the provider to link it",
            )),
            None => self.create_from(identity, &email).await,
        }
    }

    async fn linked_user(&self, identity: &Identity) -> Result<Option<i64>> {
        Ok(user_identities::Entity::find()
            .filter(user_identities::Column::Provider.eq(identity.provider.as_str()))
            .filter(user_identities::Column::Subject.eq(identity.subject.as_str()))
            .one(&self.core.db)
            .await?
            .map(|row| row.user_id))
    }

    /// Links `identity` to `user_id`; a concurrent link of the same identity to the same user
    /// is no error, to another user a conflict.
    async fn link(&self, identity: &Identity, user_id: i64) -> Result<()> {
        match insert_identity(&self.core.db, identity, user_id).await {
            Ok(()) => Ok(()),
            Err(err) if is_unique_violation(&err) => match self.linked_user(identity).await? {
                Some(linked) if linked == user_id => Ok(()),
                _ => Err(Error::Conflict(
                    "this provider account is already linked to another user",
                )),
            },
            Err(err) => Err(err.into()),
        }
    }

    /// A new account for `identity`, with a username made from what the provider shared and
    /// a random password nobody knows (the user may set one later). A verified address is
    /// the account's, proven (taken from an account that only claimed it); an unverified one
    /// is not used at all: the account gets a placeholder until its holder sets an address
    /// (and proves it), so a provider's unverified claim never blocks the address's owner.
    async fn create_from(&self, identity: &Identity, email: &str) -> Result<i64> {
        let hash = password::hash(random_text(24)).await?;
        let stored = match identity.email_verified {
            true => email.to_owned(),
            false => placeholder(),
        };
        let base = username_base(identity, email);
        for attempt in 0..8u32 {
            let username = match attempt {
                0 => base.clone(),
                _ => {
                    let suffixed = format!("{}-{}", base.as_str(), random_text(3).to_lowercase());
                    Username::parse(Some(suffixed)).unwrap_or_else(|_| base.clone())
                }
            };
            let created = self
                .core
                .in_transaction(|txn| {
                    let (username, email, hash) = (username.clone(), stored.clone(), hash.clone());
                    let identity = identity.clone();
                    Box::pin(async move {
                        let released = match identity.email_verified {
                            true => release_claim(txn, &email).await?,
                            false => None,
                        };
                        let row = new_account(&username, &email, hash, identity.email_verified);
                        let user = users::Entity::insert(row).exec(txn).await?;
                        let user_id = user.last_insert_id;
                        insert_identity(txn, &identity, user_id).await?;
                        Ok((user_id, released))
                    })
                })
                .await;
            match created {
                Ok((user_id, released)) => {
                    self.core
                        .invalidate(Write::Registered {
                            username: username.into_string(),
                        })
                        .await;
                    if let Some(user_id) = released {
                        self.core.invalidate(Write::Account { user_id }).await;
                    }
                    return Ok(user_id);
                }
                Err(err) if unique_violation_column(&err).as_deref() == Some("username_key") => {}
                Err(err) if is_unique_violation(&err) => {
                    // The same identity or e-mail, created by a concurrent sign-in.
                    return match self.linked_user(identity).await? {
                        Some(user_id) => Ok(user_id),
                        None => Err(Error::Conflict("an account with this e-mail exists")),
                    };
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(Error::Conflict(
            "no free username could be found; try again",
        ))
    }

    /// Records that the sign-in attempt with `state` came back; a second return of it (a
    /// replayed callback, on any instance) is refused.
    pub async fn spend_oidc_attempt(&self, state: &str, expires_at_ms: i64) -> Result<()> {
        let inserted = oidc_attempts_spent::Entity::insert(oidc_attempts_spent::ActiveModel {
            attempt_id: Set(digest(state)),
            expires_at: Set(expires_at_ms),
        })
        .exec_without_returning(&self.core.db)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Err(Error::Unauthorized(
                "this sign-in attempt was already used: start again",
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// A one-time code a single-page app exchanges for `user_id`'s token.
    pub async fn hand_off(&self, user_id: i64) -> Result<String> {
        let code = random_text(32);
        login_handoffs::Entity::insert(login_handoffs::ActiveModel {
            code_digest: Set(digest(&code)),
            user_id: Set(user_id),
            expires_at: Set(now_ms() + HANDOFF_LIFETIME_MS),
            ..Default::default()
        })
        .exec_without_returning(&self.core.db)
        .await?;
        Ok(code)
    }

    /// Spends a one-time code: the user it was for, with a fresh RealWorld token.
    pub async fn take_handoff(&self, code: &str) -> Result<SignedIn> {
        let hash = digest(code);
        let now = now_ms();
        let spent = login_handoffs::Entity::update_many()
            .col_expr(login_handoffs::Column::UsedAt, Expr::value(now))
            .filter(login_handoffs::Column::CodeDigest.eq(hash.as_str()))
            .filter(login_handoffs::Column::UsedAt.is_null())
            .filter(login_handoffs::Column::ExpiresAt.gt(now))
            .exec(&self.core.db)
            .await?
            .rows_affected;
        let handoff = login_handoffs::Entity::find()
            .filter(login_handoffs::Column::CodeDigest.eq(hash))
            .one(&self.core.db)
            .await?;
        match handoff {
            Some(handoff) if spent == 1 => self.current_user(handoff.user_id).await,
            _ => Err(Error::Unauthorized(
                "the sign-in code is invalid, expired or already used",
            )),
        }
    }
}

async fn insert_identity(
    db: &impl ConnectionTrait,
    identity: &Identity,
    user_id: i64,
) -> Result<(), DbErr> {
    user_identities::Entity::insert(user_identities::ActiveModel {
        user_id: Set(user_id),
        provider: Set(identity.provider.clone()),
        subject: Set(identity.subject.clone()),
        email: Set(identity.email.clone()),
        created_at: Set(now_ms()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A valid username from the provider's `preferred_username`, else the e-mail's local part.
fn username_base(identity: &Identity, email: &str) -> Username {
    let candidate = identity
        .preferred_username
        .as_deref()
        .filter(|name| Username::parse(Some((*name).to_owned())).is_ok())
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default());
    let cleaned: String = candidate
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(USERNAME_MAX - 4)
        .collect();
    Username::parse(Some(cleaned))
        .or_else(|_| Username::parse(Some(format!("user-{}", random_text(4)))))
        .expect("`user-` and letters and digits make a username")
}
