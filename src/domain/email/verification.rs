//! Proving an address: the link mailed at sign-up and at every change of address, sent again
//! on request, and spent to mark the address verified.

use crate::domain::accounts::Accounts;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::{
    Purpose, VERIFY_LIFETIME, is_placeholder, issue_token, live_token, messages, spend_token,
};
use crate::db::entities::users;
use crate::domain::cache_keys::Write;
use crate::domain::now_ms;
use crate::error::{Error, Result};

/// The address an account proved.
#[derive(Debug, Clone)]
pub struct VerifiedEmail {
    pub email: String,
}

/// What a verification link would prove: this address, for this account.
#[derive(Debug, Clone)]
pub struct VerificationTarget {
    pub email: String,
    pub username: String,
}

const LINK_INVALID: &str = "is invalid, expired or already used";

impl Accounts {
    /// Mails `email` a link that proves it for account `user_id` (in `db`, the transaction that
    /// gave the account this address).
    pub(crate) async fn mail_verification(
        &self,
        db: &impl ConnectionTrait,
        user_id: i64,
        username: &str,
        email: &str,
    ) -> Result<(), DbErr> {
        if !self.mail.enabled || is_placeholder(email) {
            return Ok(());
        }
        let token = issue_token(db, Purpose::Verify, user_id, email, VERIFY_LIFETIME).await?;
        let link = self.mail_link("/verify-email", &token);
        let mail = messages::verification(&self.mail.site_name, email, username, &link);
        self.send_mail(db, mail).await
    }

    /// Mails the signed-in user's address a new verification link.
    pub async fn resend_verification(&self, user_id: i64) -> Result<()> {
        let user = self.user_by_id(user_id).await?;
        if is_placeholder(&user.email) {
            return Err(Error::field("email", "is not set: choose an address first"));
        }
        if user.email_verified_at.is_some() {
            return Err(Error::field("email", "is already verified"));
        }
        self.require_mail()?;
        self.spend_mail_budget(&user.email).await?;
        self.core
            .in_transaction(|txn| {
                let (user, accounts) = (user.clone(), self.clone());
                Box::pin(async move {
                    accounts
                        .mail_verification(txn, user.id, &user.username, &user.email)
                        .await
                })
            })
            .await?;
        Ok(())
    }

    /// What the live verification token `token` would prove, without spending it.
    pub async fn verification_target(&self, token: &str) -> Result<Option<VerificationTarget>> {
        let Some(row) = live_token(&self.core.db, Purpose::Verify, token).await? else {
            return Ok(None);
        };
        let user = users::Entity::find_by_id(row.user_id)
            .one(&self.core.db)
            .await?;
        Ok(user.map(|user| VerificationTarget {
            email: row.email,
            username: user.username,
        }))
    }

    /// Spends a verification token: the address it was mailed to is proven, if the account
    /// still has it.
    pub async fn verify_email(&self, token: Option<String>) -> Result<VerifiedEmail> {
        let token = token
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::field("token", "can't be blank"))?;
        let spent = self
            .core
            .in_transaction(|txn| {
                let token = token.clone();
                Box::pin(async move {
                    let Some(spent) = spend_token(txn, Purpose::Verify, &token).await? else {
                        return Err(Error::field("token", LINK_INVALID));
                    };
                    let proven = users::Entity::update_many()
                        .col_expr(users::Column::EmailVerifiedAt, Expr::value(now_ms()))
                        .filter(users::Column::Id.eq(spent.user_id))
                        .filter(users::Column::Email.eq(spent.email.as_str()))
                        .exec(txn)
                        .await?
                        .rows_affected;
                    match proven {
                        1 => Ok(spent),
                        _ => Err(Error::field(
                            "token",
                            "was sent to an address the account no longer has",
                        )),
                    }
                })
            })
            .await?;
        self.core
            .invalidate(Write::Account {
                user_id: spent.user_id,
            })
            .await;
        Ok(VerifiedEmail { email: spent.email })
    }
}
