//! A fake OpenID Connect provider the tests start: discovery, keys, an authorization endpoint
//! that signs in whoever the test says at once, and a token endpoint that checks the client,
//! the redirect URI and the PKCE verifier before answering with an RS256 ID token. Knobs spoil
//! the ID token in the ways a verifier must catch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "quire-at-fake";
pub const CLIENT_SECRET: &str = "fake-provider-secret";

/// Who the provider says signs in, and how it spoils the ID token.
#[derive(Clone, Default)]
pub struct Person {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub preferred_username: Option<String>,
    pub spoil: Option<Spoil>,
}

#[derive(Clone, Copy, Debug)]
pub enum Spoil {
    Nonce,
    Audience,
    Issuer,
    Expired,
    Signature,
}

struct Pending {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    person: Person,
}

#[derive(Default)]
struct Shared {
    person: Person,
    codes: HashMap<String, Pending>,
    /// Signing with the second key (and publishing only it) from now on.
    rotated: bool,
    /// How many times the keys were fetched.
    key_fetches: usize,
}

pub struct FakeProvider {
    pub issuer: String,
    shared: Arc<Mutex<Shared>>,
}

impl FakeProvider {
    pub async fn start() -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = (issuer.clone(), shared.clone());
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(keys))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        FakeProvider { issuer, shared }
    }

    /// Who signs in next.
    pub fn signs_in(&self, person: Person) {
        self.shared.lock().unwrap().person = person;
    }

    /// Replaces the signing key: the new one is published, the old one withdrawn.
    pub fn rotate_keys(&self) {
        self.shared.lock().unwrap().rotated = true;
    }

    pub fn key_fetches(&self) -> usize {
        self.shared.lock().unwrap().key_fetches
    }

    /// The setting that names this provider `name` to Quire.
    pub fn setting(&self, name: &str) -> String {
        json!([{"name": name, "issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}])
            .to_string()
    }
}

type AppState = (String, Arc<Mutex<Shared>>);

async fn discovery(State((issuer, _)): State<AppState>) -> Json<Value> {
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "scopes_supported": ["openid", "email", "profile"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn keys(State((_, shared)): State<AppState>) -> Response {
    let mut shared = shared.lock().unwrap();
    shared.key_fetches += 1;
    let keys = match shared.rotated {
        false => include_str!("fixtures/oidc-provider-jwks.json"),
        true => include_str!("fixtures/oidc-provider-jwks-2.json"),
    };
    ([(header::CONTENT_TYPE, "application/json")], keys).into_response()
}

async fn authorize(
    State((_, shared)): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let given = |name: &str| params.get(name).cloned().unwrap_or_default();
    if given("client_id") != CLIENT_ID
        || given("response_type") != "code"
        || given("code_challenge_method") != "S256"
        || !given("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", uuid::Uuid::new_v4());
    let mut shared = shared.lock().unwrap();
    let pending = Pending {
        nonce: given("nonce"),
        challenge: given("code_challenge"),
        redirect_uri: given("redirect_uri"),
        person: shared.person.clone(),
    };
    shared.codes.insert(code.clone(), pending);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &given("state"))
        .finish();
    Redirect::to(&format!("{}?{query}", given("redirect_uri"))).into_response()
}

async fn token(
    State((issuer, shared)): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let refuse =
        |error: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response();
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let given = |name: &str| form.get(name).cloned().unwrap_or_default();
    let (pending, rotated) = {
        let mut shared = shared.lock().unwrap();
        (shared.codes.remove(&given("code")), shared.rotated)
    };
    let Some(pending) = pending else {
        return refuse("invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(given("code_verifier").as_bytes()));
    if challenge != pending.challenge || given("redirect_uri") != pending.redirect_uri {
        return refuse("invalid_grant");
    }
    let person = pending.person;
    let now = chrono::Utc::now().timestamp();
    let spoiled = |which| matches!(person.spoil, Some(s) if std::mem::discriminant(&s) == std::mem::discriminant(&which));
    let mut claims = json!({
        "iss": if spoiled(Spoil::Issuer) { "http://someone.else".to_owned() } else { issuer },
        "aud": if spoiled(Spoil::Audience) { "another-client" } else { CLIENT_ID },
        "sub": person.subject,
        "iat": now,
        "exp": if spoiled(Spoil::Expired) { now - 600 } else { now + 300 },
        "nonce": if spoiled(Spoil::Nonce) { "not-the-nonce".to_owned() } else { pending.nonce },
        "email_verified": person.email_verified,
    });
    if let Some(email) = person.email {
        claims["email"] = Value::String(email);
    }
    if let Some(name) = person.preferred_username {
        claims["preferred_username"] = Value::String(name);
    }
    let mut header = Header::new(Algorithm::RS256);
    let key = if rotated {
        header.kid = Some("test-key-2".into());
        EncodingKey::from_rsa_der(include_bytes!("fixtures/oidc-provider-key-2.der"))
    } else {
        header.kid = Some("test-key".into());
        EncodingKey::from_rsa_der(include_bytes!("fixtures/oidc-provider-key.der"))
    };
    let mut id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    if spoiled(Spoil::Signature) {
        let (signed, signature) = id_token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        id_token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes));
    }
    Json(json!({
        "access_token": "provider-access-token",
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    }))
    .into_response()
}
