//! Domain values parsed once at the edge: a value of one of these types has passed its rules,
//! so the code that takes one checks nothing again. Each `parse` returns its field's message.

use std::fmt;

use serde::{Deserialize, Deserializer};
use validator::ValidateEmail;

use super::input::{Parsed, at_most, required};

pub const USERNAME_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const TAG_MAX: usize = 64;
pub const TAGS_PER_ARTICLE_MAX: usize = 20;
/// The longest slug a title makes; a suffix that makes it unique comes on top.
const SLUG_BASE_MAX: usize = 200;
/// `articles.slug`'s length.
const SLUG_MAX: usize = 255;
/// Slugs that name a route beside `/api/articles/{slug}` (`/api/articles/feed`): an article
/// with one could never be read, edited or deleted, so it gets a suffix instead.
const RESERVED_SLUGS: &[&str] = &["feed"];

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

/// An article's slug: lower-case ASCII letters and digits joined by hyphens, made from a title
/// ([`Slug::of_title`]) or named by a path ([`Slug::parse`]; anything else names no article).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// The URL-safe slug of a title: its ASCII letters and digits, lowercased, the runs of
    /// anything else between them made single hyphens; `article` when nothing is left.
    pub fn of_title(title: &str) -> Slug {
        let mut slug = String::with_capacity(title.len());
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        slug.truncate(SLUG_BASE_MAX);
        while slug.ends_with('-') {
            slug.pop();
        }
        if slug.is_empty() {
            slug.push_str("article");
        }
        Slug(slug)
    }

    /// A slug as a path or an argument names it; `None` when no article could have it.
    pub fn parse(value: &str) -> Option<Slug> {
        let possible = !value.is_empty()
            && value.len() <= SLUG_MAX
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        possible.then(|| Slug(value.to_owned()))
    }

    /// This slug with `suffix` (lower-case letters and digits) after a hyphen.
    pub fn with_suffix(&self, suffix: &str) -> Slug {
        debug_assert!(Slug::parse(suffix).is_some());
        Slug(format!("{}-{suffix}", self.0))
    }

    /// Whether the slug is a route's name, so that an article cannot have it.
    pub fn is_reserved(&self) -> bool {
        RESERVED_SLUGS.contains(&self.0.as_str())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A path parameter that is no slug does not deserialize (and so names nothing: 404).
impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Slug::parse(&value).ok_or_else(|| serde::de::Error::custom("no article has this slug"))
    }
}

/// A tag's name: trimmed, not blank, at most [`TAG_MAX`] characters, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TagName(String);

impl TagName {
    pub fn parse(value: String) -> Parsed<TagName> {
        let value = value.trim();
        if value.contains('\0') {
            return Err("must not contain NUL characters".into());
        }
        if value.chars().count() > TAG_MAX {
            return Err(format!(
                "tag '{value}' is too long (maximum is {TAG_MAX} characters)"
            ));
        }
        Ok(TagName(value.to_owned()))
    }

    /// An article's tags as sent: blanks dropped, each once, sorted, at most
    /// [`TAGS_PER_ARTICLE_MAX`].
    pub fn parse_list(value: Option<Vec<String>>) -> Parsed<Vec<TagName>> {
        let mut tags = value
            .unwrap_or_default()
            .into_iter()
            .filter(|t| !t.trim().is_empty())
            .map(TagName::parse)
            .collect::<Parsed<Vec<TagName>>>()?;
        tags.sort();
        tags.dedup();
        if tags.len() > TAGS_PER_ARTICLE_MAX {
            return Err(format!(
                "has too many tags (maximum is {TAGS_PER_ARTICLE_MAX})"
            ));
        }
        Ok(tags)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tag names as the strings cache topics and events carry.
pub fn tag_strings(tags: &[TagName]) -> Vec<String> {
    tags.iter().map(|tag| tag.0.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        let of = |title| Slug::of_title(title).into_string();
        assert_eq!(of("How to train your dragon"), "how-to-train-your-dragon");
        assert_eq!(of("  Hello,   World!! "), "hello-world");
        assert_eq!(of("¿¡!!"), "article");
        assert_eq!(of("Ünïcode Tïtle 2"), "n-code-t-tle-2");
        assert!(Slug::parse("Upper").is_none());
        assert!(Slug::parse("").is_none());
        assert!(Slug::parse("a\0b").is_none());
        assert_eq!(
            Slug::parse("a-1").map(Slug::into_string).as_deref(),
            Some("a-1")
        );
    }

    #[test]
    fn tags_are_normalised() {
        let tags = TagName::parse_list(Some(vec![" b ".into(), "a".into(), "".into(), "b".into()]));
        assert_eq!(tags, Ok(vec![TagName("a".into()), TagName("b".into())]));
    }
}
