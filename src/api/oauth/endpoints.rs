//! The endpoints OAuth2 clients call: token (RFC 6749 §3.2), revocation (RFC 7009),
//! introspection (RFC 7662) and the server's metadata (RFC 8414).

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRef, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::wire::{IntrospectionResponse, OAuthErrorBody, ServerMetadata, TokenResponse};
use super::{Params, issuer};
use crate::config::Settings;
use crate::domain::oauth::ClientCredentials;
use crate::domain::oauth::OAuth;
use crate::domain::oauth::grants::CodeExchange;
use crate::domain::oauth_clients::{Client, Scope};
use crate::error::{Error, INVALID_ACCESS_TOKEN, OAuthCode, Result};
use crate::http::body::read_form;
use crate::http::rate_limit;

/// A call from an authenticated client: its form parameters and who it is. Refusals (not a
/// form, a client that fails authentication) are answered as RFC 6749 §5.2 errors.
pub struct ClientCall {
    headers: HeaderMap,
    params: Params,
    client: Client,
}

impl<S> FromRequest<S> for ClientCall
where
    OAuth: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (oauth, settings) = (OAuth::from_ref(state), Arc::<Settings>::from_ref(state));
        let call = async {
            let headers = request.headers().clone();
            let body = read_form(request, settings.body_timeout)
                .await
                .map_err(|err| Error::oauth(OAuthCode::InvalidRequest, err.message()))?;
            let params = Params::parse(&body);
            let client = authenticate(&oauth, &headers, &params).await?;
            Ok(ClientCall {
                headers,
                params,
                client,
            })
        };
        call.await.map_err(|err| finish(Err(err)))
    }
}

/// `POST /oauth/token`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "OAuth2",
    operation_id = "OAuthToken",
    summary = "Exchange a grant for tokens (authorization_code with PKCE, refresh_token, client_credentials)",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`grant_type` and its parameters (RFC 6749 §4.1.3, §4.4.2, §6); the client by HTTP Basic or `client_id`/`client_secret`"),
    responses(
        (status = 200, description = "The tokens (RFC 6749 §5.1)", body = TokenResponse),
        (status = 400, description = "Refused (RFC 6749 §5.2)", body = OAuthErrorBody),
        (status = 401, description = "The client failed to authenticate (`invalid_client`)", body = OAuthErrorBody),
        (status = "default", description = "Any other refusal (413, 429, 503), in the same shape", body = OAuthErrorBody),
    ),
)]
pub async fn token(State(oauth): State<OAuth>, call: ClientCall) -> Response {
    finish(grant(&oauth, &call).await)
}

async fn grant(oauth: &OAuth, call: &ClientCall) -> Result<Response> {
    let (params, client) = (&call.params, &call.client);
    let issued = match params.required("grant_type")? {
        "authorization_code" => {
            let exchange = CodeExchange {
                code: params.required("code")?.to_owned(),
                redirect_uri: params.owned("redirect_uri")?,
                code_verifier: params.owned("code_verifier")?,
            };
            oauth.exchange_code(client, exchange).await?
        }
        "refresh_token" => {
            let refresh_token = params.required("refresh_token")?;
            oauth
                .refresh_grant(client, refresh_token, params.one("scope")?)
                .await?
        }
        "client_credentials" => {
            oauth
                .client_credentials_grant(client, params.one("scope")?)
                .await?
        }
        _ => {
            return Err(Error::oauth(
                OAuthCode::UnsupportedGrantType,
                "use authorization_code, refresh_token or client_credentials",
            ));
        }
    };
    Ok(Json(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scopes.names(),
        refresh_token: issued.refresh_token,
    })
    .into_response())
}

/// `POST /oauth/revoke`: 200 whether or not the token was known (RFC 7009 §2.2); 400
/// `unauthorized_client` for another client's token (§2.1).
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "OAuth2",
    operation_id = "OAuthRevoke",
    summary = "Revoke an access or refresh token (RFC 7009)",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`token` (and `token_type_hint`); the client as for /oauth/token"),
    responses(
        (status = 200, description = "Revoked, or was not valid"),
        (status = 400, description = "Refused (RFC 6749 §5.2)", body = OAuthErrorBody),
        (status = 401, description = "The client failed to authenticate (`invalid_client`)", body = OAuthErrorBody),
        (status = "default", description = "Any other refusal (413, 429, 503), in the same shape", body = OAuthErrorBody),
    ),
)]
pub async fn revoke(State(oauth): State<OAuth>, call: ClientCall) -> Response {
    let revoked = async {
        let token = call.params.required("token")?;
        oauth.revoke_token(&call.client, token).await
    };
    finish(revoked.await.map(|()| StatusCode::OK.into_response()))
}

/// `POST /oauth/introspect`, for confidential clients (resource servers).
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    tag = "OAuth2",
    operation_id = "OAuthIntrospect",
    summary = "Whether a token is valid, and for whom (RFC 7662; confidential clients)",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`token`; the client as for /oauth/token"),
    responses(
        (status = 200, description = "What the token is", body = IntrospectionResponse),
        (status = 400, description = "Refused (RFC 6749 §5.2)", body = OAuthErrorBody),
        (status = 401, description = "The client failed to authenticate (`invalid_client`)", body = OAuthErrorBody),
        (status = "default", description = "Any other refusal (413, 429, 503), in the same shape", body = OAuthErrorBody),
    ),
)]
pub async fn introspect(
    State(oauth): State<OAuth>,
    State(settings): State<Arc<Settings>>,
    call: ClientCall,
) -> Response {
    finish(describe(&oauth, &settings, &call).await)
}

async fn describe(oauth: &OAuth, settings: &Settings, call: &ClientCall) -> Result<Response> {
    if !call.client.confidential {
        return Err(Error::oauth(
            OAuthCode::InvalidClient,
            "introspection is for confidential clients",
        ));
    }
    let Some(info) = oauth.introspect(call.params.required("token")?).await? else {
        return Ok(Json(IntrospectionResponse::default()).into_response());
    };
    Ok(Json(IntrospectionResponse {
        active: true,
        scope: Some(info.scopes.names()),
        client_id: Some(info.client_id),
        token_type: Some(if info.refresh {
            "refresh_token"
        } else {
            "Bearer"
        }),
        exp: Some(info.expires_at_ms / 1000),
        iat: Some(info.issued_at_ms / 1000),
        iss: Some(issuer(settings, &call.headers)),
        sub: info.user_id.map(|id| id.to_string()),
        username: info.username,
    })
    .into_response())
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "OAuth2",
    operation_id = "OAuthServerMetadata",
    summary = "The authorization server's metadata (RFC 8414)",
    responses((status = 200, description = "Endpoints and what they support", body = ServerMetadata)),
)]
pub async fn metadata(State(settings): State<Arc<Settings>>, headers: HeaderMap) -> Response {
    let issuer = issuer(&settings, &headers);
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
    let client_auth = ["client_secret_basic", "client_secret_post", "none"];
    Json(ServerMetadata {
        authorization_endpoint: format!("{issuer}/oauth/authorize"),
        token_endpoint: format!("{issuer}/oauth/token"),
        revocation_endpoint: format!("{issuer}/oauth/revoke"),
        introspection_endpoint: format!("{issuer}/oauth/introspect"),
        scopes_supported: scopes,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: client_auth,
        revocation_endpoint_auth_methods_supported: client_auth,
        introspection_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
        ],
        service_documentation: format!("{issuer}/docs"),
        issuer,
    })
    .into_response()
}

/// The calling client: by HTTP Basic (`client_id:client_secret`, each form-encoded, RFC 6749
/// §2.3.1) or by `client_id` (and `client_secret`) in the body; never both ways at once.
async fn authenticate(oauth: &OAuth, headers: &HeaderMap, params: &Params) -> Result<Client> {
    let body_id = params.owned("client_id")?;
    let body_secret = params.owned("client_secret")?;
    let credentials = match basic_credentials(headers)? {
        Some(basic) => {
            if body_secret.is_some() || body_id.as_ref().is_some_and(|id| *id != basic.client_id) {
                return Err(Error::oauth(
                    OAuthCode::InvalidRequest,
                    "authenticate the client one way: HTTP Basic or the body, not both",
                ));
            }
            basic
        }
        None => ClientCredentials {
            client_id: body_id.ok_or_else(|| {
                Error::oauth(OAuthCode::InvalidClient, "the client is not identified")
            })?,
            secret: body_secret,
        },
    };
    oauth.authenticate_client(credentials).await
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<ClientCredentials>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || Error::oauth(OAuthCode::InvalidClient, "malformed HTTP Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let form_decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| malformed())
    };
    let secret = form_decode(secret)?;
    Ok(Some(ClientCredentials {
        client_id: form_decode(id)?,
        secret: (!secret.is_empty()).then_some(secret),
    }))
}

/// An endpoint's answer, its error as RFC 6749 §5.2's JSON. Nothing it answers is cached.
fn finish(result: Result<Response>) -> Response {
    let mut response = result.unwrap_or_else(error_response);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn error_response(err: Error) -> Response {
    let (status, code, description) = match err {
        Error::OAuth(code, description) => {
            let status = if code == OAuthCode::InvalidClient {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            (status, code.as_str(), description.into_owned())
        }
        Error::RateLimited(decision) => {
            let mut response = body(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                "too many requests: try again later",
            );
            rate_limit::add_refusal_headers(response.headers_mut(), &decision);
            return response;
        }
        Error::Unavailable(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            reason.to_owned(),
        ),
        Error::Internal(err) => {
            tracing::error!(error = %format!("{err:#}"), "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal server error".to_owned(),
            )
        }
        // The endpoints refuse with OAuth codes; anything else a domain call says is a request
        // the endpoint cannot carry out.
        Error::Validation(fields) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            fields
                .iter()
                .flat_map(|(field, messages)| messages.iter().map(move |m| format!("{field} {m}")))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::Unauthorized(reason)
        | Error::Forbidden(reason)
        | Error::Csrf(reason)
        | Error::Conflict(reason) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            reason.to_owned(),
        ),
        Error::InvalidAccessToken => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            INVALID_ACCESS_TOKEN.to_owned(),
        ),
        Error::InsufficientScope(scope) => (
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("the token was not granted the `{scope}` scope"),
        ),
        Error::NotFound(what) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{what} not found"),
        ),
    };
    let mut response = body(status, code, &description);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"quire\""),
        );
    }
    response
}

fn body(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(OAuthErrorBody {
            error: code.to_owned(),
            error_description: description.to_owned(),
        }),
    )
        .into_response()
}
