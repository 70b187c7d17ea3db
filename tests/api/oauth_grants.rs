//! The token endpoint's grants and their misuse (a wrong verifier or redirect URI, a reused
//! code or refresh token, a stolen code), client credentials, revocation and introspection.

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AccessToken, AuthType, AuthorizationCode, PkceCodeVerifier, Scope, StandardRevocableToken,
    TokenIntrospectionResponse, TokenResponse,
};
use reqwest::StatusCode;

use crate::oauth::{
    authorization, client, error_of, http, in_browser, loopback, param, register_app, tokens_for,
};
use crate::support::{Jar, TestApp};

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.client
        .get(app.url("/api/articles/feed"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// A code from the browser flow, with its verifier.
async fn code_for(
    app: &TestApp,
    client: &crate::oauth::Client,
    user: &str,
) -> (String, PkceCodeVerifier) {
    let (url, verifier, _) = authorization(client, &["read"]);
    let location = in_browser(app, &mut Jar::default(), &url, user, "allow").await;
    (param(&location, "code").unwrap(), verifier)
}

#[tokio::test]
async fn a_code_is_refused_with_a_wrong_verifier_or_redirect_uri_and_its_reuse_revokes_its_tokens()
{
    let app = TestApp::spawn().await;
    let (user, _) = app.user().await;
    let registered = register_app(&app, false, "read").await;
    let client = client(&app, &registered);

    let (code, verifier) = code_for(&app, &client, &user).await;
    let wrong = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(64)))
        .request_async(&http())
        .await;
    assert_eq!(error_of(wrong), BasicErrorResponseType::InvalidGrant);
    let missing = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .request_async(&http())
        .await;
    assert_eq!(error_of(missing), BasicErrorResponseType::InvalidGrant);
    let elsewhere = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_redirect_uri(std::borrow::Cow::Owned(
            oauth2::RedirectUrl::new("http://127.0.0.1:9/other".into()).unwrap(),
        ))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&http())
        .await;
    assert_eq!(error_of(elsewhere), BasicErrorResponseType::InvalidGrant);

    // The right verifier still works once (the failed attempts spent nothing)...
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
        .request_async(&http())
        .await
        .unwrap();
    let access = tokens.access_token().secret().clone();
    assert_eq!(status_with(&app, &access).await, StatusCode::OK);
    // ...and a second exchange of the same code is refused and revokes what the first issued.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await;
    assert_eq!(error_of(replay), BasicErrorResponseType::InvalidGrant);
    assert_eq!(status_with(&app, &access).await, StatusCode::UNAUTHORIZED);
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&http())
        .await;
    assert_eq!(error_of(refreshed), BasicErrorResponseType::InvalidGrant);

    // A code is for the client it was issued to.
    let other = client_of(&app, false, "read").await;
    let (code, verifier) = code_for(&app, &client, &user).await;
    let stolen = other
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await;
    assert_eq!(error_of(stolen), BasicErrorResponseType::InvalidGrant);
}

async fn client_of(app: &TestApp, confidential: bool, scopes: &str) -> crate::oauth::Client {
    client(app, &register_app(app, confidential, scopes).await)
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_spent_one_presented_again_revokes_the_grant() {
    // A one-second reuse window, so that "again, later" comes soon.
    let app = TestApp::spawn_with(&[("refresh_reuse_seconds", "1")]).await;
    let (user, _) = app.user().await;
    let client = client_of(&app, true, "read write").await;
    let first = tokens_for(&app, &client, &user, &["read", "write"]).await;

    // Narrowed to `read`: the access token is, the refresh token keeps both.
    let second = client
        .exchange_refresh_token(first.refresh_token().unwrap())
        .add_scope(Scope::new("read".into()))
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(second.scopes().unwrap().len(), 1);
    assert_ne!(
        second.refresh_token().unwrap().secret(),
        first.refresh_token().unwrap().secret()
    );
    let third = client
        .exchange_refresh_token(second.refresh_token().unwrap())
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(third.scopes().unwrap().len(), 2);
    let wider = client
        .exchange_refresh_token(third.refresh_token().unwrap())
        .add_scope(Scope::new("profile".into()))
        .request_async(&http())
        .await;
    assert_eq!(error_of(wider), BasicErrorResponseType::InvalidScope);
    let live = third.access_token().secret().clone();
    assert_eq!(status_with(&app, &live).await, StatusCode::OK);

    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let replayed = client
        .exchange_refresh_token(first.refresh_token().unwrap())
        .request_async(&http())
        .await;
    assert_eq!(error_of(replayed), BasicErrorResponseType::InvalidGrant);
    assert_eq!(status_with(&app, &live).await, StatusCode::UNAUTHORIZED);
    let after = client
        .exchange_refresh_token(third.refresh_token().unwrap())
        .request_async(&http())
        .await;
    assert_eq!(error_of(after), BasicErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn client_credentials_need_a_confidential_client_and_act_for_no_user() {
    let app = TestApp::spawn().await;
    let registered = register_app(&app, true, "read write").await;
    let basic = client(&app, &registered);
    let tokens = basic
        .exchange_client_credentials()
        .add_scope(Scope::new("read".into()))
        .request_async(&http())
        .await
        .unwrap();
    assert!(tokens.refresh_token().is_none());
    let token = tokens.access_token().secret().clone();
    let articles = app
        .raw(
            app.client
                .get(app.url("/api/articles"))
                .header("authorization", format!("Bearer {token}")),
        )
        .await;
    assert_eq!(articles.status, StatusCode::OK, "{}", articles.text);
    let feed = status_with(&app, &token).await;
    assert_eq!(
        feed,
        StatusCode::FORBIDDEN,
        "a client's own token has no feed"
    );

    // The token says what it can do: read, whatever was asked (RFC 6749 §3.3), in the token
    // response and in introspection alike.
    let scopes = |tokens: &oauth2::basic::BasicTokenResponse| -> Vec<String> {
        let granted = tokens
            .scopes()
            .expect("the answer names the scopes granted");
        granted.iter().map(|s| s.to_string()).collect()
    };
    assert_eq!(scopes(&tokens), ["read"]);
    // The secret in the body works as well; a wrong one does not.
    let in_body = client(&app, &registered).set_auth_type(AuthType::RequestBody);
    let unasked = in_body
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(scopes(&unasked), ["read"]);
    let asked_more = basic
        .exchange_client_credentials()
        .add_scope(Scope::new("read".into()))
        .add_scope(Scope::new("write".into()))
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(scopes(&asked_more), ["read"]);
    let info = basic
        .introspect(asked_more.access_token())
        .request_async(&http())
        .await
        .unwrap();
    assert_eq!(info.scopes().unwrap().len(), 1);
    let only_write = basic
        .exchange_client_credentials()
        .add_scope(Scope::new("write".into()))
        .request_async(&http())
        .await;
    assert_eq!(error_of(only_write), BasicErrorResponseType::InvalidScope);
    let mut wrong = crate::oauth::App {
        secret: Some("qs_wrong".into()),
        ..registered
    };
    wrong.name.clear();
    let refused = client(&app, &wrong)
        .exchange_client_credentials()
        .request_async(&http())
        .await;
    assert_eq!(error_of(refused), BasicErrorResponseType::InvalidClient);

    let public = client_of(&app, false, "read").await;
    let refused = public
        .exchange_client_credentials()
        .request_async(&http())
        .await;
    assert_eq!(
        error_of(refused),
        BasicErrorResponseType::UnauthorizedClient
    );
}

#[tokio::test]
async fn revoked_tokens_introspect_as_inactive_and_stop_working() {
    let app = TestApp::spawn().await;
    let (user, _) = app.user().await;
    let client = client_of(&app, true, "read profile").await;
    let tokens = tokens_for(&app, &client, &user, &["read"]).await;
    let access = tokens.access_token().clone();

    let seen = client
        .introspect(&access)
        .request_async(&http())
        .await
        .unwrap();
    assert!(seen.active());
    assert_eq!(seen.username(), Some(user.as_str()));
    assert_eq!(seen.scopes().unwrap()[0].as_str(), "read");
    assert!(seen.exp().is_some() && seen.iat().is_some());

    client
        .revoke_token(StandardRevocableToken::AccessToken(access.clone()))
        .unwrap()
        .request_async(&loopback)
        .await
        .unwrap();
    let seen = client
        .introspect(&access)
        .request_async(&http())
        .await
        .unwrap();
    assert!(!seen.active());
    let refused = app
        .raw(
            app.client
                .get(app.url("/api/articles/feed"))
                .header("authorization", format!("Bearer {}", access.secret())),
        )
        .await;
    refused.assert_error(StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    // Revoking the refresh token ends the whole grant; unknown tokens are fine to revoke.
    let refresh = tokens.refresh_token().unwrap().clone();
    client
        .revoke_token(StandardRevocableToken::RefreshToken(refresh.clone()))
        .unwrap()
        .request_async(&loopback)
        .await
        .unwrap();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .request_async(&http())
        .await;
    assert_eq!(error_of(refreshed), BasicErrorResponseType::InvalidGrant);
    let unknown = StandardRevocableToken::AccessToken(AccessToken::new("qoa_unknown".into()));
    assert!(
        client
            .revoke_token(unknown)
            .unwrap()
            .request_async(&loopback)
            .await
            .is_ok()
    );

    // Another client cannot revoke a token it does not hold, and is told so (RFC 7009 §2.1);
    // a public one cannot introspect.
    let live = tokens_for(&app, &client, &user, &["read"]).await;
    let other = client_of(&app, false, "read").await;
    let attempt = StandardRevocableToken::AccessToken(live.access_token().clone());
    let refused = other
        .revoke_token(attempt)
        .unwrap()
        .request_async(&loopback)
        .await;
    assert!(
        matches!(&refused, Err(oauth2::RequestTokenError::ServerResponse(r)) if r.error().to_string() == "unauthorized_client"),
        "{refused:?}"
    );
    assert_eq!(
        status_with(&app, live.access_token().secret()).await,
        StatusCode::OK
    );
    let refused = other
        .introspect(live.access_token())
        .request_async(&http())
        .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn concurrent_exchanges_of_one_code_or_one_refresh_token_let_at_most_one_through() {
    let app = TestApp::spawn().await;
    let (user, _) = app.user().await;
    let client = client_of(&app, false, "read").await;
    let (code, verifier) = code_for(&app, &client, &user).await;
    let http = http();
    let exchanges = (0..6).map(|_| {
        client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
            .request_async(&http)
    });
    let outcomes = futures::future::join_all(exchanges).await;
    let issued: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(issued.len(), 1, "{outcomes:?}");
    for outcome in outcomes.iter().filter(|o| o.is_err()) {
        assert!(
            matches!(outcome, Err(oauth2::RequestTokenError::ServerResponse(r)) if *r.error() == BasicErrorResponseType::InvalidGrant),
            "{outcome:?}"
        );
    }

    // Concurrent refreshes with one token (two tabs) within the reuse window: every one gets
    // the same successors, and the grant lives on.
    let tokens = tokens_for(&app, &client, &user, &["read"]).await;
    let refreshes = (0..8).map(|_| {
        client
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .request_async(&http)
    });
    let outcomes = futures::future::join_all(refreshes).await;
    let renewed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(renewed.len(), 8, "{outcomes:?}");
    let successor = renewed[0].refresh_token().unwrap().secret();
    for tokens in &renewed {
        assert_eq!(tokens.refresh_token().unwrap().secret(), successor);
        assert_eq!(
            tokens.access_token().secret(),
            renewed[0].access_token().secret()
        );
    }
    assert_eq!(
        status_with(&app, renewed[0].access_token().secret()).await,
        StatusCode::OK
    );
    assert!(
        client
            .exchange_refresh_token(renewed[0].refresh_token().unwrap())
            .request_async(&http)
            .await
            .is_ok()
    );
}

/// OAuth 2.1: PKCE for every client; with the setting off a confidential client may leave it
/// out, and then a `code_verifier` sent for its code is a downgrade, refused (RFC 9700 §4.8.2).
#[tokio::test]
async fn pkce_is_required_of_every_client_and_a_verifier_without_a_challenge_is_refused() {
    for required in [true, false] {
        let setting = if required { "true" } else { "false" };
        let app = TestApp::spawn_with(&[("oauth_require_pkce", setting)]).await;
        let (user, _) = app.user().await;
        let confidential = client_of(&app, true, "read").await;
        let (url, _, _) = authorization(&confidential, &["read"]);
        let without: String = url
            .split('&')
            .filter(|part| !part.starts_with("code_challenge"))
            .collect::<Vec<_>>()
            .join("&");
        let location = in_browser(&app, &mut Jar::default(), &without, &user, "allow").await;
        if required {
            assert_eq!(
                param(&location, "error").as_deref(),
                Some("invalid_request")
            );
            assert!(param(&location, "code").is_none());
            continue;
        }
        let code = param(&location, "code").expect("a code without PKCE");
        let downgraded = confidential
            .exchange_code(AuthorizationCode::new(code.clone()))
            .set_pkce_verifier(PkceCodeVerifier::new("y".repeat(64)))
            .request_async(&http())
            .await;
        assert_eq!(error_of(downgraded), BasicErrorResponseType::InvalidGrant);
        // Without a verifier, as such a client was issued it, the code still works once.
        let exchanged = confidential
            .exchange_code(AuthorizationCode::new(code))
            .request_async(&http())
            .await;
        assert!(exchanged.is_ok(), "{exchanged:?}");
    }
}
