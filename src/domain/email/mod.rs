//! E-mail as a capability: proving an address (verification), recovering an account through
//! a proven one (password reset), and telling an account's owner what changed (notices).
//!
//! The rule that keeps addresses trustworthy: an address is only used to link identities or
//! to reach an account by mail once its owner proved it. Until then it is a *claim*: it still
//! signs its account in, but a proof by someone else (a provider that verified the address)
//! takes it away (`release_claim`), so an unproven address never captures or blocks its owner.
//!
//! Mail leaves through the job queue: each mail is enqueued in the transaction of the change
//! that causes it, and the tokens it carries are random, kept as digests, single-use, and
//! expire.

pub(crate) mod messages;
mod recovery;
mod verification;

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::accounts::Accounts;
use super::now_ms;
use crate::auth::refresh::{digest, random_text};
use crate::db::entities::{email_tokens, users};
use crate::error::{Error, Result};
use crate::jobs::{self, JobPayload};
use crate::limits::Class;
use crate::mail::Outgoing;

/// How long a verification link works.
pub const VERIFY_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// How long a password-reset link (or the link that frees a claimed address) works.
pub const RESET_LIFETIME: Duration = Duration::from_secs(3600);

/// The domain of the placeholder address of an account that has none it may use: its unproven
/// address was taken by the address's owner, or a provider shared only an unverified one
/// (`.invalid` can never receive mail, RFC 2606).
pub const NO_ADDRESS_DOMAIN: &str = "no-address.invalid";

const MAIL_OFF: &str = "mail is not configured on this server: set QUIRE_SMTP_URL";

/// What a mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Verify,
    Reset,
    /// Frees an address from the account that only claims it, for its proven owner.
    Release,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::Release => "release",
        }
    }
}

/// A mailed token that was spent: for which account and address.
struct Spent {
    user_id: i64,
    email: String,
}

impl Accounts {
    /// The link `path` of this site with `token` as its `token` query parameter.
    fn mail_link(&self, path: &str, token: &str) -> String {
        let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        format!("{}{path}?token={token}", self.mail.base_url)
    }

    /// Refuses what needs mail when there is no way to send it.
    fn require_mail(&self) -> Result<()> {
        match self.mail.enabled {
            true => Ok(()),
            false => Err(Error::Unavailable(MAIL_OFF)),
        }
    }

    /// Spends the mail budget of `address` (whoever asks for mail to it).
    async fn spend_mail_budget(&self, address: &str) -> Result<()> {
        match self
            .limiter
            .check(Class::Mail, format!("mail:{address}"))
            .await
        {
            Some(decision) if !decision.allowed => Err(Error::RateLimited(decision)),
            _ => Ok(()),
        }
    }

    /// Enqueues `mail` in `db` (the transaction of the change it is about); nothing when mail
    /// is off.
    pub(crate) async fn send_mail(
        &self,
        db: &impl ConnectionTrait,
        mail: Outgoing,
    ) -> Result<(), DbErr> {
        if !self.mail.enabled || is_placeholder(&mail.to) {
            return Ok(());
        }
        // Mail is waited for by a person: ahead of webhooks and reports.
        let mut job = self.mailer.seal(&mail).job();
        job.priority = -10;
        jobs::enqueue(db, job).await?;
        Ok(())
    }
}

/// Whether `address` is a placeholder (see [`NO_ADDRESS_DOMAIN`]).
pub(crate) fn is_placeholder(address: &str) -> bool {
    address.ends_with(&format!("@{NO_ADDRESS_DOMAIN}"))
}

/// A new placeholder address, unique (for an account whose id is not known yet).
pub(crate) fn placeholder() -> String {
    format!(
        "unset-{}@{NO_ADDRESS_DOMAIN}",
        random_text(12).to_lowercase()
    )
}

/// Stores a new token for `purpose` (its digest) and returns it.
async fn issue_token(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    user_id: i64,
    email: &str,
    lifetime: Duration,
) -> Result<String, DbErr> {
    let token = random_text(32);
    let now = now_ms();
    email_tokens::Entity::insert(email_tokens::ActiveModel {
        token_digest: Set(digest(&token)),
        purpose: Set(purpose.name().to_owned()),
        user_id: Set(user_id),
        email: Set(email.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + lifetime.as_millis() as i64),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(token)
}

/// The live token `token` for `purpose`, without spending it.
async fn live_token(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    token: &str,
) -> Result<Option<email_tokens::Model>, DbErr> {
    email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenDigest.eq(digest(token)))
        .filter(email_tokens::Column::Purpose.eq(purpose.name()))
        .filter(email_tokens::Column::UsedAt.is_null())
        .filter(email_tokens::Column::ExpiresAt.gt(now_ms()))
        .one(db)
        .await
}

/// Spends `token` for `purpose`: one statement decides between concurrent uses.
async fn spend_token(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    token: &str,
) -> Result<Option<Spent>, DbErr> {
    let Some(row) = live_token(db, purpose, token).await? else {
        return Ok(None);
    };
    let now = now_ms();
    let spent = email_tokens::Entity::update_many()
        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
        .filter(email_tokens::Column::Id.eq(row.id))
        .filter(email_tokens::Column::UsedAt.is_null())
        .filter(email_tokens::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?
        .rows_affected;
    Ok((spent == 1).then_some(Spent {
        user_id: row.user_id,
        email: row.email,
    }))
}

/// Takes `email` away from the account that holds it without having proved it (its owner has
/// just proved it): that account keeps a placeholder it cannot be mailed or signed in by.
/// Returns the account that lost it.
pub(crate) async fn release_claim(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<i64>, DbErr> {
    let Some(holder) = users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let released = users::Entity::update_many()
        .col_expr(
            users::Column::Email,
            Expr::value(format!("released-{}@{NO_ADDRESS_DOMAIN}", holder.id)),
        )
        .col_expr(users::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(users::Column::Id.eq(holder.id))
        .filter(users::Column::Email.eq(email))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok((released == 1).then_some(holder.id))
}
