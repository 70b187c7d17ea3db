//! Parsing raw input into domain values. Each parser returns the message for its field (the
//! values with types of their own are in `values`).

use validator::ValidateUrl;

pub const BIO_MAX: usize = 2_000;
pub const IMAGE_MAX: usize = 2_048;
pub const TITLE_MAX: usize = 255;
pub const DESCRIPTION_MAX: usize = 2_000;
pub const ARTICLE_BODY_MAX: usize = 100_000;
pub const COMMENT_BODY_MAX: usize = 10_000;
pub const TAG_MAX: usize = 64;
pub const TAGS_PER_ARTICLE_MAX: usize = 20;
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

/// Trimmed, blanks dropped, duplicates removed, sorted.
pub fn tag_list(value: Option<Vec<String>>) -> Parsed<Vec<String>> {
    let mut tags: Vec<String> = value
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if tags.iter().any(|t| t.contains('\0')) {
        return Err("must not contain NUL characters".into());
    }
    if let Some(long) = tags.iter().find(|t| t.chars().count() > TAG_MAX) {
        return Err(format!(
            "tag '{long}' is too long (maximum is {TAG_MAX} characters)"
        ));
    }
    tags.sort();
    tags.dedup();
    if tags.len() > TAGS_PER_ARTICLE_MAX {
        return Err(format!(
            "has too many tags (maximum is {TAGS_PER_ARTICLE_MAX})"
        ));
    }
    Ok(tags)
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

/// Slugs that name a route beside `/api/articles/{slug}` (`/api/articles/feed`): an article
/// with one could never be read, edited or deleted, so it gets a suffix instead.
pub const RESERVED_SLUGS: &[&str] = &["feed"];

/// URL-safe slug of a title: lower-case ASCII letters and digits joined by single hyphens.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').chars().take(200).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        "article".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(
            slugify("How to train your dragon"),
            "how-to-train-your-dragon"
        );
        assert_eq!(slugify("  Hello,   World!! "), "hello-world");
        assert_eq!(slugify("¿¡!!"), "article");
        assert_eq!(slugify("Ünïcode Tïtle 2"), "n-code-t-tle-2");
    }

    #[test]
    fn tags_are_normalised() {
        let tags = tag_list(Some(vec![" b ".into(), "a".into(), "".into(), "b".into()]));
        assert_eq!(tags, Ok(vec!["a".to_owned(), "b".to_owned()]));
    }
}
