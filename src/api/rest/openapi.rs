//! The REST API's OpenAPI 3.1 document, assembled by the router from the handlers'
//! `#[utoipa::path]` annotations and the wire types' schemas, served at `/api/openapi.json`, and Swagger UI at
//! `/docs` from files compiled into the binary (no CDN).

use std::sync::{Arc, LazyLock};

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::Config;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quire: the RealWorld (Conduit) API",
        description = "The RealWorld REST API, plus bearer tokens with refresh, cookie sessions, webhooks and reports. Errors are always `{\"errors\": {\"<field or body>\": [\"message\"]}}`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(crate::http::error::ErrorBody)),
    modifiers(&TokenScheme),
    tags(
        (name = "Articles"), (name = "Comments"), (name = "Favorites"), (name = "Profile"),
        (name = "Tags"), (name = "User and Authentication"),
        (name = "Tokens", description = "Short-lived bearer tokens with rotating refresh tokens"),
        (name = "Sessions", description = "Cookie sessions for browsers, with a CSRF token"),
        (name = "Webhooks", description = "Signed event deliveries to your URLs"),
        (name = "Reports", description = "Reports generated in the background"),
        (name = "Authorized apps", description = "Third-party applications the user allowed (OAuth2)"),
    )
)]
pub(super) struct ApiDoc;

/// RealWorld's `Authorization: Token <jwt>` (`Bearer` is accepted too).
struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "Token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <jwt>` (or `Bearer <jwt>`), the token from login, registration or /api/auth/token",
            ))),
        );
    }
}

/// The document of the routes `router` registered, with the OAuth2 endpoints', as JSON: rendered
/// once, when the router is built.
pub(super) fn render(mut document: utoipa::openapi::OpenApi) -> String {
    document.merge(crate::api::oauth::OAuthDoc::openapi());
    document.to_json().expect("the OpenAPI document serialises")
}

pub(super) async fn document(rendered: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], rendered).into_response()
}

static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::from("/api/openapi.json")
            // The public validator would be a request to another host.
            .validator_url("none")
            .try_it_out_enabled(true),
    )
});

/// Swagger UI's pages: only this server's own files and the document.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// `/docs`: Swagger UI's index, with a base so that its relative links resolve under `/docs/`
/// (trailing slashes are trimmed before routing, so the page is served without one).
pub async fn docs_index() -> Response {
    docs_file("index.html", true)
}

pub async fn docs_asset(Path(file): Path<String>) -> Response {
    docs_file(&file, false)
}

fn docs_file(file: &str, index: bool) -> Response {
    let found = match utoipa_swagger_ui::serve(file, SWAGGER_CONFIG.clone()) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return crate::http::error::error_response(StatusCode::NOT_FOUND, "no such file");
        }
        Err(err) => {
            tracing::error!(error = %err, "serving Swagger UI failed");
            return crate::http::error::error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error",
            );
        }
    };
    let bytes = if index {
        String::from_utf8_lossy(&found.bytes)
            .replacen("<head>", "<head><base href=\"/docs/\">", 1)
            .into_bytes()
    } else {
        found.bytes.into_owned()
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&found.content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_POLICY),
    );
    // The files change only with a new release; the page is asked for again each time.
    let policy = if index {
        "no-cache"
    } else {
        "public, max-age=86400"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}
