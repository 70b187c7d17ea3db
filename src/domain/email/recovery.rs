//! Recovering an account by mail: a reset link to a *proven* address only (an unproven one may
//! belong to someone else than the account's holder: its owner is offered a link that frees
//! the address instead), the same answer whether or not the address has an account, and a
//! reset that signs the account out everywhere.

use crate::domain::accounts::Accounts;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::{
    Purpose, RESET_LIFETIME, issue_token, live_token, messages, release_claim, spend_token,
};
use crate::auth::{password, refresh};
use crate::db::entities::users;
use crate::domain::cache_keys::Write;
use crate::domain::now_ms;
use crate::domain::values::{Email, Password};
use crate::error::{Error, Result, Violations};

const LINK_INVALID: &str = "is invalid, expired or already used";

impl Accounts {
    /// Asks for a reset link to `email`. Answers alike whether or not an account has the
    /// address (and in the same time: the lookup and the mail happen after the answer).
    pub async fn request_password_reset(&self, email: Option<String>) -> Result<()> {
        let email = Email::parse(email)
            .map_err(|m| Error::field("email", m))?
            .into_string();
        self.require_mail()?;
        self.spend_mail_budget(&email).await?;
        let accounts = self.clone();
        tokio::spawn(async move {
            if let Err(err) = accounts.mail_reset_link(&email).await {
                tracing::error!(error = %format!("{err:#}"), "a password-reset mail could not be queued");
            }
        });
        Ok(())
    }

    /// Mails a reset link if `email` is an account's proven address. An account that only
    /// claims the address is never reached this way: the address's owner is offered, instead,
    /// a link that frees the address from it.
    async fn mail_reset_link(&self, email: &str) -> Result<()> {
        let holder = users::Entity::find()
            .filter(users::Column::Email.eq(email))
            .one(&self.core.db)
            .await?;
        let Some(user) = holder else {
            return Ok(());
        };
        self.core
            .in_transaction(|txn| {
                let (user, accounts) = (user.clone(), self.clone());
                Box::pin(async move {
                    let site = &accounts.mail.site_name;
                    let (purpose, path) = match user.email_verified_at {
                        Some(_) => (Purpose::Reset, "/reset-password"),
                        None => (Purpose::Release, "/release-email"),
                    };
                    let token =
                        issue_token(txn, purpose, user.id, &user.email, RESET_LIFETIME).await?;
                    let link = accounts.mail_link(path, &token);
                    let mail = match purpose {
                        Purpose::Reset => {
                            messages::password_reset(site, &user.email, &user.username, &link)
                        }
                        _ => messages::claimed_address(site, &user.email, &user.username, &link),
                    };
                    accounts.send_mail(txn, mail).await
                })
            })
            .await?;
        Ok(())
    }

    /// Spends a release token: the address it was mailed to (proven by this) is taken from the
    /// account that only claimed it, so that its owner can sign up or sign in with it.
    pub async fn release_email(&self, token: Option<String>) -> Result<String> {
        let token = token
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::field("token", "can't be blank"))?;
        let released = self
            .core
            .in_transaction(|txn| {
                let token = token.clone();
                Box::pin(async move {
                    let invalid = || Error::field("token", LINK_INVALID);
                    let Some(spent) = spend_token(txn, Purpose::Release, &token).await? else {
                        return Err(invalid());
                    };
                    let holder = release_claim(txn, &spent.email).await?;
                    holder
                        .filter(|id| *id == spent.user_id)
                        .map(|id| (id, spent.email))
                        .ok_or_else(invalid)
                })
            })
            .await?;
        let (user_id, email) = released;
        self.core.invalidate(Write::Account { user_id }).await;
        Ok(email)
    }

    /// Whether `token` would reset a password now (the link's page asks before its form; a
    /// link scanner's GET spends nothing).
    pub async fn reset_token_is_live(&self, token: &str) -> Result<bool> {
        Ok(live_token(&self.core.db, Purpose::Reset, token)
            .await?
            .is_some())
    }

    /// Spends a reset token and sets the account's password; every session, token and app
    /// grant of the account stops working, as after a password change.
    pub async fn reset_password(
        &self,
        token: Option<String>,
        new_password: Option<String>,
    ) -> Result<()> {
        let mut violations = Violations::default();
        let token = violations.check(
            "token",
            token
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| "can't be blank".to_owned()),
        );
        let new_password = violations.check("password", Password::parse(new_password));
        let (token, new_password) = violations.finish_with(|| Some((token?, new_password?)))?;
        // Hash only for a token that can still be spent: a guess costs no argon2 run.
        if !self.reset_token_is_live(&token).await? {
            return Err(Error::field("token", LINK_INVALID));
        }
        let hash = password::hash(new_password.into_secret()).await?;
        let user_id = self
            .core
            .in_transaction(|txn| {
                let (token, hash, accounts) = (token.clone(), hash.clone(), self.clone());
                Box::pin(async move {
                    let invalid = || Error::field("token", LINK_INVALID);
                    let Some(spent) = spend_token(txn, Purpose::Reset, &token).await? else {
                        return Err(invalid());
                    };
                    let now = now_ms();
                    let changed = users::Entity::update_many()
                        .col_expr(users::Column::PasswordHash, Expr::value(hash))
                        .col_expr(users::Column::TokensValidAfter, Expr::value(now))
                        .col_expr(users::Column::UpdatedAt, Expr::value(now))
                        .filter(users::Column::Id.eq(spent.user_id))
                        .filter(users::Column::Email.eq(spent.email.as_str()))
                        .exec(txn)
                        .await?
                        .rows_affected;
                    if changed != 1 {
                        return Err(invalid());
                    }
                    refresh::revoke_all(txn, spent.user_id, now).await?;
                    let user = users::Entity::find_by_id(spent.user_id)
                        .one(txn)
                        .await?
                        .ok_or_else(|| DbErr::RecordNotFound("user".into()))?;
                    let site = &accounts.mail.site_name;
                    let notice = messages::password_changed(site, &user.email, &user.username);
                    accounts.send_mail(txn, notice).await?;
                    Ok(spent.user_id)
                })
            })
            .await?;
        self.core.invalidate(Write::Account { user_id }).await;
        Ok(())
    }
}
