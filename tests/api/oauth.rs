//! Quire as an OAuth2 authorization server, driven by the `oauth2` crate as a real client and
//! by a scripted browser at the login and consent pages.

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointNotSet, EndpointSet, IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, RevocationUrl, Scope, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use quire::domain::oauth_clients::{NewClient, register};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Jar, PASSWORD, Response, TestApp, settings_for, unique};

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

pub type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;
type Tokens = StandardTokenResponse<EmptyExtraTokenFields, BasicTokenType>;

/// A client registered on the app's database, as `quire oauth-client create` would.
pub struct App {
    pub client_id: String,
    pub secret: Option<String>,
    pub name: String,
}

pub async fn register_app(app: &TestApp, confidential: bool, scopes: &str) -> App {
    let db = quire::db::connect(&settings_for(&app.database_url, None))
        .await
        .unwrap();
    let name = unique("Reader ");
    let registered = register(
        &db,
        NewClient {
            name: &name,
            redirect_uris: &[REDIRECT.to_owned()],
            confidential,
            scopes,
        },
    )
    .await
    .unwrap();
    App {
        client_id: registered.client.client_id,
        secret: registered.secret,
        name,
    }
}

pub fn client(app: &TestApp, registered: &App) -> Client {
    let mut client = BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        // The crate insists on https for revocation (RFC 7009 §2): see [`loopback`].
        .set_revocation_url(
            RevocationUrl::new(app.url("/oauth/revoke").replacen("http:", "https:", 1)).unwrap(),
        )
        .set_introspection_url(IntrospectionUrl::new(app.url("/oauth/introspect")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());
    if let Some(secret) = &registered.secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    client
}

/// The transport for the revocation request: the test server speaks plain HTTP on loopback,
/// so the request the crate built (parameters, client authentication) is sent over `http`.
pub async fn loopback(
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let uri = parts.uri.to_string().replacen("https:", "http:", 1);
    let response = http()
        .request(parts.method, uri)
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut answer = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    Ok(answer.body(response.bytes().await?.to_vec()).unwrap())
}

/// An HTTP client that does not follow redirects (the oauth2 crate's requirement, and how the
/// browser below sees where it is sent).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn browse(jar: &mut Jar, request: reqwest::RequestBuilder) -> Response {
    let request = match jar.0.is_empty() {
        true => request,
        false => request.header("cookie", jar.header()),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let response = Response {
        status,
        headers,
        body: Value::Null,
        text,
    };
    jar.take(&response);
    response
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no `{name}` in {page}"))
        + marker.len();
    let value = &page[start..start + page[start..].find('"').unwrap()];
    html_escape::decode_html_entities(value).into_owned()
}

/// What a browser sees: the pages (sign-in, consent) are answered as a user would, each step
/// asserted; returns where the server finally sends the browser outside itself.
pub async fn in_browser(
    app: &TestApp,
    jar: &mut Jar,
    url: &str,
    user: &str,
    decision: &str,
) -> String {
    let http = http();
    let mut page = browse(jar, http.get(url)).await;
    for _ in 0..6 {
        if page.status.is_redirection() {
            let location = page.headers["location"].to_str().unwrap().to_owned();
            if !location.starts_with('/') {
                return location;
            }
            page = browse(jar, http.get(app.url(&location))).await;
            continue;
        }
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            page.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        // A browser posts a form from a `no-referrer` page with `Origin: null`, which the CSRF
        // check refuses.
        assert_eq!(page.headers["referrer-policy"], "same-origin");
        let csrf = jar
            .get("csrftoken")
            .expect("the page sets a CSRF cookie")
            .to_owned();
        assert_eq!(hidden(&page.text, "csrfmiddlewaretoken"), csrf);
        let request = hidden(&page.text, "request");
        let email = format!("{user}@example.com");
        let (path, form) = if page.text.contains(r#"action="/oauth/login""#) {
            let form = vec![
                ("csrfmiddlewaretoken", csrf),
                ("request", request),
                ("email", email),
                ("password", PASSWORD.to_owned()),
            ];
            ("/oauth/login", form)
        } else {
            assert!(
                page.text.contains(user),
                "the consent page names the account"
            );
            let form = vec![
                ("csrfmiddlewaretoken", csrf),
                ("request", request),
                ("decision", decision.to_owned()),
            ];
            ("/oauth/authorize", form)
        };
        page = browse(jar, http.post(app.url(path)).form(&form)).await;
    }
    panic!("the browser went round in circles: {}", page.text);
}

/// The query parameter `name` of `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// An authorization URL for `scopes` with a PKCE challenge; its verifier and state.
pub fn authorization(client: &Client, scopes: &[&str]) -> (String, PkceCodeVerifier, CsrfToken) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    (url.to_string(), verifier, state)
}

/// Runs the whole code flow as `user`, allowing; returns the tokens.
pub async fn tokens_for(app: &TestApp, client: &Client, user: &str, scopes: &[&str]) -> Tokens {
    let (url, verifier, state) = authorization(client, scopes);
    let location = in_browser(app, &mut Jar::default(), &url, user, "allow").await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = param(&location, "code").expect("a code");
    client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap()
}

fn bearer(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("authorization", format!("Bearer {token}"))
}

async fn graphql(app: &TestApp, token: &str, query: &str) -> Response {
    app.raw(bearer(app, reqwest::Method::POST, "/graphql", token).json(&json!({ "query": query })))
        .await
}

/// The `error` of a refused token request.
pub fn error_of<T: std::fmt::Debug>(
    result: Result<T, RequestTokenError<impl std::error::Error, oauth2::basic::BasicErrorResponse>>,
) -> BasicErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(response)) => response.error().clone(),
        other => panic!("expected an OAuth2 error response, got {other:?}"),
    }
}

#[tokio::test]
async fn the_code_flow_with_pkce_gives_a_token_limited_to_its_scopes_on_rest_and_graphql() {
    let app = TestApp::spawn().await;
    let (user, jwt) = app.user().await;
    let registered = register_app(&app, false, "read write profile").await;
    let client = client(&app, &registered);

    let tokens = tokens_for(&app, &client, &user, &["read"]).await;
    let access = tokens.access_token().secret().clone();
    assert!(tokens.refresh_token().is_some());
    assert_eq!(tokens.scopes().unwrap()[0].as_str(), "read");
    assert!(tokens.expires_in().unwrap().as_secs() > 0);

    // `read` reads everything the user can see, their feed included...
    let feed = app
        .raw(bearer(
            &app,
            reqwest::Method::GET,
            "/api/articles/feed",
            &access,
        ))
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    let listed = graphql(
        &app,
        &access,
        "{ articles(first: 1) { edges { node { slug } } } }",
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert!(listed.body["errors"].is_null(), "{}", listed.text);
    // ...but writes nothing, and does not see the e-mail.
    let article = json!({"article": {"title": unique("T "), "description": "d", "body": "b"}});
    let write = app
        .raw(bearer(&app, reqwest::Method::POST, "/api/articles", &access).json(&article))
        .await;
    write.assert_error(StatusCode::FORBIDDEN);
    let challenge = write.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            && challenge.contains(r#"scope="write""#),
        "{challenge}"
    );
    let account = app
        .raw(bearer(&app, reqwest::Method::GET, "/api/user", &access))
        .await;
    account.assert_error(StatusCode::FORBIDDEN);
    assert!(
        account.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("profile")
    );
    let mutation = graphql(
        &app,
        &access,
        r#"mutation { follow(username: "nobody") { username } }"#,
    )
    .await;
    assert_eq!(mutation.status, StatusCode::FORBIDDEN, "{}", mutation.text);
    assert_eq!(
        mutation.body["errors"][0]["extensions"]["code"],
        "INSUFFICIENT_SCOPE"
    );
    assert!(mutation.headers.contains_key("www-authenticate"));
    let me = graphql(&app, &access, "{ me { email } }").await;
    assert_eq!(me.status, StatusCode::FORBIDDEN, "{}", me.text);
    // An application's token never manages the account's credentials.
    let listed = app
        .raw(bearer(
            &app,
            reqwest::Method::GET,
            "/api/user/authorizations",
            &access,
        ))
        .await;
    listed.assert_error(StatusCode::FORBIDDEN);

    // Asking for more scopes asks again; then it writes, sees the e-mail, and the account's
    // token field is the app's own token, never a JWT.
    let both = tokens_for(&app, &client, &user, &["read", "write", "profile"]).await;
    let full = both.access_token().secret().clone();
    let created = app
        .raw(bearer(&app, reqwest::Method::POST, "/api/articles", &full).json(&article))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let account = app
        .raw(bearer(&app, reqwest::Method::GET, "/api/user", &full))
        .await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert_eq!(account.body["user"]["email"], format!("{user}@example.com"));
    assert_eq!(account.body["user"]["token"], full.as_str());
    let me = graphql(&app, &full, "{ me { email token } }").await;
    assert_eq!(me.body["data"]["me"]["token"], full.as_str(), "{}", me.text);

    // Consent is remembered: the same scopes again go straight back with a code.
    let mut jar = Jar::default();
    let (url, _, _) = authorization(&client, &["read"]);
    let location = in_browser(&app, &mut jar, &url, &user, "allow").await;
    assert!(param(&location, "code").is_some());
    let again = browse(&mut jar, http().get(&url)).await;
    assert_eq!(
        again.status,
        StatusCode::FOUND,
        "remembered consent skips the page: {}",
        again.text
    );
    let location = again.headers["location"].to_str().unwrap();
    assert!(
        location.starts_with(REDIRECT) && param(location, "code").is_some(),
        "{location}"
    );

    // The user sees the app and revokes it: every token it holds stops working.
    let apps = app.get("/api/user/authorizations", Some(&jwt)).await;
    assert_eq!(apps.status, StatusCode::OK, "{}", apps.text);
    assert_eq!(
        apps.body["authorizations"][0]["clientId"],
        registered.client_id.as_str()
    );
    assert_eq!(
        apps.body["authorizations"][0]["name"],
        registered.name.as_str()
    );
    assert_eq!(
        apps.body["authorizations"][0]["scopes"],
        json!(["read", "write", "profile"])
    );
    let revoked = app
        .delete(
            &format!("/api/user/authorizations/{}", registered.client_id),
            Some(&jwt),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let after = app
        .raw(bearer(
            &app,
            reqwest::Method::GET,
            "/api/articles/feed",
            &full,
        ))
        .await;
    after.assert_error(StatusCode::UNAUTHORIZED);
    let refreshed = client
        .exchange_refresh_token(both.refresh_token().unwrap())
        .request_async(&http())
        .await;
    assert_eq!(error_of(refreshed), BasicErrorResponseType::InvalidGrant);
    let apps = app.get("/api/user/authorizations", Some(&jwt)).await;
    assert_eq!(apps.body["authorizations"], json!([]));
    let again = app
        .delete(
            &format!("/api/user/authorizations/{}", registered.client_id),
            Some(&jwt),
        )
        .await;
    again.assert_error(StatusCode::NOT_FOUND);
}
