//! Extractors that turn every kind of bad request into a JSON 4xx with field detail.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::body::{read_json, starts_as_object};
use super::error::error_response;
use crate::config::Settings;
use crate::error::Error;

/// A JSON body parsed into `T`: exactly one JSON object, with nothing after it. A wrong media
/// type is 415, a body over the limit 413, one sent too slowly 408; malformed JSON, another
/// top-level value or a wrongly typed field is 422 naming the field.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let timeout = Arc::<Settings>::from_ref(state).body_timeout;
        let bytes = read_json(req, timeout)
            .await
            .map_err(|err| error_response(err.status(), err.message()))?;
        parse_object(&bytes)
            .map(JsonBody)
            .map_err(IntoResponse::into_response)
    }
}

fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if !starts_as_object(bytes) {
        return Err(Error::field("body", "must be one JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Error::field("body", "is not valid JSON");
        }
        let field = match path.rsplit('.').next() {
            Some(last) if !last.is_empty() && last != "?" => last,
            _ => "body",
        };
        // serde's own wording, without the line/column suffix.
        let text = inner.to_string();
        Error::field(field, text.split(" at line ").next().unwrap_or(&text))
    })?;
    deserializer
        .end()
        .map_err(|_| Error::field("body", "must be one JSON object with nothing after it"))?;
    Ok(value)
}

/// The query string as name/value pairs (the first occurrence of a name wins).
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A filter value; an empty value means no filter.
    pub fn filter(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    pub fn parse(query: &str) -> Self {
        QueryParams(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let params = QueryParams::parse(parts.uri.query().unwrap_or_default());
        // No lookup can match a NUL, and PostgreSQL refuses it in a bound text parameter.
        if let Some((name, _)) = params.0.iter().find(|(_, value)| value.contains('\0')) {
            return Err(Error::field(name, "must not contain NUL characters").into_response());
        }
        Ok(params)
    }
}

/// Path parameters. One that does not parse (a word or an overflowing number where an id goes,
/// invalid percent-encoding) names nothing: a JSON 404, as every path that names nothing.
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A NUL can name no article, profile or comment (and PostgreSQL refuses it in text).
        if parts.uri.path().contains("%00") {
            return Err(error_response(StatusCode::NOT_FOUND, "not found"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParams(value))
            .map_err(|_| error_response(StatusCode::NOT_FOUND, "not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Envelope {
        #[allow(dead_code)]
        user: Option<serde_json::Value>,
    }

    #[test]
    fn only_one_object_is_a_body() {
        assert!(parse_object::<Envelope>(br#" {"user": {}} "#).is_ok());
        for bad in [
            &br#"{"user": {}} garbage"#[..],
            br#"{"user": {}}{"user": {}}"#,
            br#"[{"user": {}}]"#,
            br#""user""#,
            b"",
        ] {
            assert!(parse_object::<Envelope>(bad).is_err(), "{bad:?}");
        }
    }
}
