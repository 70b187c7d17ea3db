//! Extractors that turn every kind of bad request into a JSON 4xx with field detail.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::error_response;
use crate::api::bearer_token;
use crate::app::AppState;
use crate::error::Error;

/// A JSON body parsed into `T`. Wrong types and malformed JSON are 422 naming the field;
/// a body over the limit is 413. The content type is not insisted on, for lenient clients.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                error_response(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large")
            } else {
                error_response(StatusCode::BAD_REQUEST, "could not read the request body")
            }
        })?;
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(deserializer) {
            Ok(value) => Ok(JsonBody(value)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                let field = match path.rsplit('.').next() {
                    Some(last) if !last.is_empty() && last != "?" => last.to_owned(),
                    _ => "body".to_owned(),
                };
                let message = if inner.is_syntax() || inner.is_eof() {
                    "is not valid JSON".to_owned()
                } else {
                    // serde's own wording, without the line/column suffix.
                    let text = inner.to_string();
                    text.split(" at line ").next().unwrap_or(&text).to_owned()
                };
                Err(Error::field(&field, message).into_response())
            }
        }
    }
}

/// The signed-in user's id; 401 when the header is missing or the token is bad.
pub struct AuthUser(pub i64);

/// The viewer's id when a token is sent; a bad token is still 401.
pub struct MaybeUser(pub Option<i64>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer_token(&parts.headers)? {
            Some(token) => Ok(MaybeUser(Some(state.domain.authenticate(token).await?))),
            None => Ok(MaybeUser(None)),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(id)) => Ok(AuthUser(id)),
            MaybeUser(None) => Err(Error::Unauthorized("missing authorization token")),
        }
    }
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
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        // No lookup can match a NUL, and PostgreSQL refuses it in a bound text parameter.
        if let Some((name, _)) = pairs.iter().find(|(_, value)| value.contains('\0')) {
            return Err(Error::field(name, "must not contain NUL characters").into_response());
        }
        Ok(QueryParams(pairs))
    }
}

/// Path parameters; a bad one (e.g. invalid percent-encoding) is a JSON 400, not plain text.
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
            .map_err(|_| error_response(StatusCode::BAD_REQUEST, "malformed path parameter"))
    }
}
