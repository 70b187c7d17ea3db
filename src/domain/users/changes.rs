//! A change to an account, as sent and as parsed.

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
