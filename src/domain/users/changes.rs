//! A change to an account, as sent, as parsed and as the row to write.

use sea_orm::ActiveValue::Set;

use crate::auth::password;
use crate::db::entities::users;
use crate::domain::email::is_placeholder;
use crate::domain::input;
use crate::domain::values::{Email, Password, Username};
use crate::error::{Error, Result, Violations};

/// Absent fields are left as they are.
#[derive(Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub bio: Option<String>,
    pub image: Option<String>,
}

/// [`UserChanges`] parsed: each field that is to change, as its domain value.
pub(super) struct ParsedChanges {
    pub(super) username: Option<Username>,
    pub(super) email: Option<Email>,
    pub(super) password: Option<Password>,
    pub(super) bio: Option<String>,
    pub(super) image: Option<String>,
}

impl UserChanges {
    pub(super) fn parse(self) -> Result<ParsedChanges> {
        if self.username.is_none()
            && self.email.is_none()
            && self.password.is_none()
            && self.bio.is_none()
            && self.image.is_none()
        {
            return Err(Error::field("user", "at least one field is required"));
        }
        let mut violations = Violations::default();
        let username = self
            .username
            .and_then(|v| violations.check("username", Username::parse(Some(v))));
        // A settings form sends back the placeholder of an account without an address: that
        // means "unchanged", not an address to set.
        let email = self
            .email
            .filter(|v| !is_placeholder(&v.trim().to_lowercase()))
            .and_then(|v| violations.check("email", Email::parse(Some(v))));
        // Settings forms send an empty password to mean "unchanged".
        let password = self
            .password
            .filter(|p| !p.is_empty())
            .and_then(|v| violations.check("password", Password::parse(Some(v))));
        let bio = self
            .bio
            .and_then(|v| violations.check("bio", input::bio(Some(v))));
        let image = self
            .image
            .and_then(|v| violations.check("image", input::image(Some(v))));
        violations.finish()?;
        Ok(ParsedChanges {
            username,
            email,
            password,
            bio,
            image,
        })
    }
}

/// The account's row with [`ParsedChanges`] applied, and what the change means beyond it.
pub(super) struct ChangedRow {
    pub(super) row: users::ActiveModel,
    /// The address it had, when the change gives it a new one.
    pub(super) old_email: Option<String>,
    pub(super) password_changed: bool,
}

impl ParsedChanges {
    /// The changes applied to `current`, at `now`.
    pub(super) async fn applied_to(self, current: users::Model, now: i64) -> Result<ChangedRow> {
        let old_email = self
            .email
            .as_ref()
            .filter(|email| email.as_str() != current.email)
            .map(|_| current.email.clone());
        let mut row: users::ActiveModel = current.into();
        if let Some(username) = self.username {
            row.username_key = Set(username.key());
            row.username = Set(username.into_string());
        }
        if let (Some(email), Some(_)) = (self.email, &old_email) {
            // A new address is only claimed until its owner proves it.
            row.email = Set(email.into_string());
            row.email_verified_at = Set(None);
        }
        let password_changed = self.password.is_some();
        if let Some(new_password) = self.password {
            row.password_hash = Set(password::hash(new_password.into_secret()).await?);
            // Every token issued before the change is refused from now on.
            row.tokens_valid_after = Set(now);
        }
        if let Some(bio) = self.bio {
            row.bio = Set(bio);
        }
        if let Some(image) = self.image {
            row.image = Set(image);
        }
        row.updated_at = Set(now);
        Ok(ChangedRow {
            row,
            old_email,
            password_changed,
        })
    }
}
