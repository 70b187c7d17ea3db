//! Parsing raw input into domain values. Each parser returns the message for its field (the
//! values with types of their own are in `values`).

use validator::ValidateUrl;

pub const BIO_MAX: usize = 2_000;
pub const IMAGE_MAX: usize = 2_048;
pub const TITLE_MAX: usize = 255;
pub const DESCRIPTION_MAX: usize = 2_000;
pub const ARTICLE_BODY_MAX: usize = 100_000;
pub const COMMENT_BODY_MAX: usize = 10_000;
pub const PAGE_LIMIT_DEFAULT: u64 = 20;
pub const PAGE_LIMIT_MAX: u64 = 100;
pub const PAGE_OFFSET_MAX: u64 = 1_000_000_000;
/// The most comments one answer holds: the default of the comments list (RealWorld frontends
/// never page it, and real threads stay below it), and the largest `limit` it takes.
pub const COMMENTS_MAX: u64 = 1_000;

pub(crate) type Parsed<T> = Result<T, String>;

pub(crate) fn required(value: Option<String>) -> Parsed<String> {
    match value {
        Some(v) if !v.trim().is_empty() => without_nul(v),
        _ => Err("can't be blank".into()),
    }
}

/// NUL cannot be stored in PostgreSQL text and has no place in user content.
fn without_nul(value: String) -> Parsed<String> {
    if value.contains('\0') {
        Err("must not contain NUL characters".into())
    } else {
        Ok(value)
    }
}

pub(crate) fn at_most(value: String, max: usize) -> Parsed<String> {
    let value = without_nul(value)?;
    if value.chars().count() > max {
        Err(format!("is too long (maximum is {max} characters)"))
    } else {
        Ok(value)
    }
}

pub fn bio(value: Option<String>) -> Parsed<String> {
    at_most(value.unwrap_or_default().trim().to_owned(), BIO_MAX)
}

/// Empty clears the image; anything else must be an http(s) URL.
pub fn image(value: Option<String>) -> Parsed<String> {
    let value = at_most(value.unwrap_or_default().trim().to_owned(), IMAGE_MAX)?;
    if value.is_empty()
        || ((value.starts_with("https://") || value.starts_with("http://")) && value.validate_url())
    {
        Ok(value)
    } else {
        Err("must be an http(s) URL".into())
    }
}

pub fn title(value: Option<String>) -> Parsed<String> {
    at_most(required(value)?.trim().to_owned(), TITLE_MAX)
}

pub fn description(value: Option<String>) -> Parsed<String> {
    at_most(required(value)?.trim().to_owned(), DESCRIPTION_MAX)
}

pub fn article_body(value: Option<String>) -> Parsed<String> {
    at_most(required(value)?, ARTICLE_BODY_MAX)
}

pub fn comment_body(value: Option<String>) -> Parsed<String> {
    at_most(required(value)?, COMMENT_BODY_MAX)
}

/// `limit`/`offset` as given in a query string.
pub fn page_limit(value: Option<&str>) -> Parsed<u64> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(PAGE_LIMIT_DEFAULT),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=PAGE_LIMIT_MAX).contains(&n) => Ok(n),
            _ => Err(format!("must be an integer between 1 and {PAGE_LIMIT_MAX}")),
        },
    }
}

/// A comments list's `limit`: 1 to [`COMMENTS_MAX`], all of them (up to it) when absent.
pub fn comments_limit(value: Option<&str>) -> Parsed<u64> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(COMMENTS_MAX),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=COMMENTS_MAX).contains(&n) => Ok(n),
            _ => Err(format!("must be an integer between 1 and {COMMENTS_MAX}")),
        },
    }
}

pub fn page_offset(value: Option<&str>) -> Parsed<u64> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(0),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n <= PAGE_OFFSET_MAX => Ok(n),
            _ => Err(format!(
                "must be an integer between 0 and {PAGE_OFFSET_MAX}"
            )),
        },
    }
}
