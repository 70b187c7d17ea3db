//! Accounts: registration, login, the current user and its updates.

mod changes;

use self::changes::ChangedRow;
pub use self::changes::UserChanges;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::accounts::Accounts;
use super::cache_keys::{self as keys, Kind, Write};
use super::core::Core;
use super::email::messages;
use super::now_ms;
use super::values::{Email, Password, Username};
use crate::auth::{password, refresh};
use crate::db::entities::users;
use crate::db::unique_violation_column;
use crate::error::{Error, Result, Violations};
use crate::limits::Class;

/// The signed-in user as they see themselves (with their e-mail and a fresh token).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub bio: String,
    pub image: String,
    /// Whether the owner of `email` proved it.
    pub email_verified: bool,
    pub token: String,
}

pub struct Registration {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

pub struct Credentials {
    pub email: Option<String>,
    pub password: Option<String>,
}

/// What authenticating a request reads of a user, and what `GET /user` shows: through the
/// cache, without the password hash (which has no place in a shared cache).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Account {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub bio: String,
    pub image: String,
    pub tokens_valid_after: i64,
    #[serde(default)]
    pub email_verified: bool,
}

impl From<users::Model> for Account {
    fn from(user: users::Model) -> Self {
        Account {
            id: user.id,
            email: user.email,
            username: user.username,
            bio: user.bio,
            image: user.image,
            tokens_valid_after: user.tokens_valid_after,
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

const TAKEN: &str = "has already been taken";

impl Accounts {
    fn signed_in(&self, user: impl Into<Account>) -> Result<SignedIn> {
        let user = user.into();
        Ok(SignedIn {
            token: self.tokens.issue(user.id)?,
            id: user.id,
            email: user.email,
            username: user.username,
            bio: user.bio,
            image: user.image,
            email_verified: user.email_verified,
        })
    }

    /// The user behind a verified token. A token for a deleted account is refused, and so is
    /// one issued before the account's last password change or "log out everywhere": the
    /// check reads the same row, so it costs nothing more and holds on every instance at once.
    pub async fn authenticate(&self, token: &str) -> Result<i64> {
        let verified = self.tokens.verify(token)?;
        let user = self.account(verified.user_id).await?;
        if verified.issued_at_ms < user.tokens_valid_after {
            return Err(Error::Unauthorized("token revoked: sign in again"));
        }
        Ok(user.id)
    }

    pub async fn register(&self, input: Registration) -> Result<SignedIn> {
        let mut violations = Violations::default();
        let username = violations.check("username", Username::parse(input.username));
        let email = violations.check("email", Email::parse(input.email));
        let password = violations.check("password", Password::parse(input.password));
        let (username, email, password) =
            violations.finish_with(|| Some((username?, email?, password?)))?;

        self.ensure_available(None, Some(&username), Some(&email))
            .await?;
        let hash = password::hash(password.into_secret()).await?;
        let row = new_account(&username, email.as_str(), hash, false);
        // The account and the mail that lets its owner prove the address, together.
        let user = self
            .core
            .in_transaction(|txn| {
                let (row, accounts) = (row.clone(), self.clone());
                Box::pin(async move {
                    let user = row.insert(txn).await?;
                    accounts
                        .mail_verification(txn, user.id, &user.username, &user.email)
                        .await?;
                    Ok(user)
                })
            })
            .await
            .map_err(uniqueness_error)?;
        let username = user.username.clone();
        self.core.invalidate(Write::Registered { username }).await;
        self.signed_in(user)
    }

    pub async fn login(&self, input: Credentials) -> Result<SignedIn> {
        let user = self.check_credentials(input).await?;
        self.signed_in(user)
    }

    /// The account the credentials open, or 401.
    pub(crate) async fn check_credentials(&self, input: Credentials) -> Result<users::Model> {
        let mut violations = Violations::default();
        let email = violations.check("email", Email::parse(input.email.clone()));
        let password = violations.check(
            "password",
            input
                .password
                .filter(|p| !p.is_empty())
                .ok_or_else(|| "can't be blank".to_owned()),
        );
        let (email, password) = violations.finish_with(|| Some((email?, password?)))?;
        // Every attempt spends the account's budget before the password is checked, so
        // concurrent guesses cannot all slip through before the first failure is counted.
        if let Some(decision) = self
            .limiter
            .check(Class::LoginFailures, format!("account:{}", email.as_str()))
            .await
            && !decision.allowed
        {
            return Err(Error::RateLimited(decision));
        }
        let user = users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.core.db)
            .await?;
        // Verified whether or not the account exists (against a dummy hash when it does not):
        // the same work and the same answer, so timing cannot tell which e-mails are registered.
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let verified = password::verify(password, stored).await?;
        match user {
            Some(user) if verified => Ok(user),
            _ => Err(Error::Unauthorized("email or password is invalid")),
        }
    }

    pub async fn current_user(&self, user_id: i64) -> Result<SignedIn> {
        let user = self.account(user_id).await?;
        self.signed_in(user)
    }

    /// The account of `user_id`; a deleted one is refused as its token is. Through the cache
    /// only when it is shared: an in-process copy would let another instance accept a token
    /// revoked here.
    pub(crate) async fn account(&self, user_id: i64) -> Result<Account> {
        let read = || async {
            let user = users::Entity::find_by_id(user_id)
                .one(&self.core.db)
                .await?;
            Ok(user.map(Account::from))
        };
        let account: Option<Account> = match self.core.cache.has_redis() {
            true => {
                self.core
                    .cached(Kind::Viewer, keys::user_account(user_id), read)
                    .await?
            }
            false => read().await?,
        };
        account.ok_or(Error::Unauthorized("invalid or expired token"))
    }

    pub async fn update_user(&self, user_id: i64, changes: UserChanges) -> Result<SignedIn> {
        let changes = changes.parse()?;
        let now = now_ms();
        let current = self.user_by_id(user_id).await?;
        let old_username = current.username.clone();
        self.ensure_available(
            Some(user_id),
            changes.username.as_ref(),
            changes.email.as_ref(),
        )
        .await?;
        let ChangedRow {
            row,
            old_email,
            password_changed,
        } = changes.applied_to(current, now).await?;
        let user = self
            .core
            .in_transaction(|txn| {
                let (row, accounts, old_email) = (row.clone(), self.clone(), old_email.clone());
                Box::pin(async move {
                    let user = row.update(txn).await?;
                    let site = &accounts.mail.site_name;
                    if password_changed {
                        refresh::revoke_all(txn, user.id, now).await?;
                        let notice = messages::password_changed(site, &user.email, &user.username);
                        accounts.send_mail(txn, notice).await?;
                    }
                    if let Some(old_email) = old_email {
                        let notice =
                            messages::email_changed(site, &old_email, &user.username, &user.email);
                        accounts.send_mail(txn, notice).await?;
                        accounts
                            .mail_verification(txn, user.id, &user.username, &user.email)
                            .await?;
                    }
                    Ok(user)
                })
            })
            .await
            .map_err(uniqueness_error)?;
        // Authors are embedded in cached articles, comments and profiles.
        let usernames = vec![old_username, user.username.clone()];
        let known = Write::Known {
            article: None,
            tags: Vec::new(),
            user: Some(user.id),
        };
        let user_id = user.id;
        let read = move |core: Core| {
            let usernames = usernames.clone();
            async move { core.profile_touched(user_id, usernames).await }
        };
        self.core.invalidate_touched(read, known).await;
        self.signed_in(user)
    }

    pub(crate) async fn user_by_id(&self, user_id: i64) -> Result<users::Model> {
        users::Entity::find_by_id(user_id)
            .one(&self.core.db)
            .await?
            .ok_or(Error::Unauthorized("invalid or expired token"))
    }

    /// Reports every taken field at once; the unique indexes still decide races.
    async fn ensure_available(
        &self,
        except: Option<i64>,
        username: Option<&Username>,
        email: Option<&Email>,
    ) -> Result<()> {
        let mut violations = Violations::default();
        if let Some(username) = username
            && let Some(holder) = self.core.user_by_username(username.as_str()).await?
            && Some(holder.id) != except
        {
            violations.add("username", TAKEN);
        }
        if let Some(email) = email
            && let Some(holder) = users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .one(&self.core.db)
                .await?
            && Some(holder.id) != except
        {
            violations.add("email", TAKEN);
        }
        violations.finish()
    }
}

/// A unique violation that slipped past the pre-check (a concurrent registration), named by
/// the column of the violated key (never guessed from the message, which quotes the value).
fn uniqueness_error(err: sea_orm::DbErr) -> Error {
    match unique_violation_column(&err).as_deref() {
        Some("username_key") => Error::field("username", TAKEN),
        Some("email") => Error::field("email", TAKEN),
        _ => err.into(),
    }
}

/// The row of a new account: every way in (registration, a sign-in provider) builds it here.
/// An address `proven` at creation (by the provider) needs no mailed link.
pub(crate) fn new_account(
    username: &Username,
    email: &str,
    password_hash: String,
    proven: bool,
) -> users::ActiveModel {
    let now = now_ms();
    users::ActiveModel {
        username_key: Set(username.key()),
        username: Set(username.as_str().to_owned()),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash),
        bio: Set(String::new()),
        image: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        email_verified_at: Set(proven.then_some(now)),
        ..Default::default()
    }
}
