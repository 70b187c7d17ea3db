//! Domain values parsed once at the edge: a value of one of these types has passed its rules,
//! so the code that takes one checks nothing again. Each `parse` returns its field's message.

use std::fmt;

use validator::ValidateEmail;

use super::input::{Parsed, at_most, required};

pub const USERNAME_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// A username: letters, digits, `_`, `-` and `.`, and not dots alone (a username is one URL
/// path segment, `/api/profiles/{username}`, and browsers remove `.` and `..` segments).
/// Two usernames are the same when their [`Username::key`]s are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(value: Option<String>) -> Parsed<Username> {
        let value = at_most(required(value)?.trim().to_owned(), USERNAME_MAX)?;
        if !value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Err("can only contain letters, digits, '_', '-' and '.'".into())
        } else if value.chars().all(|c| c == '.') {
            Err("must contain a letter or digit, not only dots".into())
        } else {
            Ok(Username(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What makes usernames the same, as `users.username_key` holds it.
    pub fn key(&self) -> String {
        username_key(&self.0)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The key of a username as it was written (a path segment, a stored name): lowercased, so
/// that `Jake` and `jake` are one user.
pub fn username_key(name: &str) -> String {
    name.to_lowercase()
}

/// An e-mail address, lowercased so that addresses are unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: Option<String>) -> Parsed<Email> {
        let value = at_most(required(value)?.trim().to_lowercase(), EMAIL_MAX)?;
        // `.invalid` never receives mail (RFC 2606); released addresses use it.
        if value.validate_email() && !value.ends_with(".invalid") {
            Ok(Email(value))
        } else {
            Err("is invalid".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A password in clear, between its length limits: never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(value: Option<String>) -> Parsed<Password> {
        let value = required(value)?;
        let length = value.chars().count();
        if length < PASSWORD_MIN {
            Err(format!(
                "is too short (minimum is {PASSWORD_MIN} characters)"
            ))
        } else if length > PASSWORD_MAX {
            Err(format!(
                "is too long (maximum is {PASSWORD_MAX} characters)"
            ))
        } else {
            Ok(Password(value))
        }
    }

    /// The clear text, for hashing.
    pub fn into_secret(self) -> String {
        self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}
