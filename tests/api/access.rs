//! Every route declares what an application's token may do on it (`http::access`): walked
//! over the whole API description, so a new route without a declaration fails here.

use oauth2::TokenResponse;
use reqwest::StatusCode;

use crate::oauth::{client, register_app, tokens_for};
use crate::openapi::METHODS;
use crate::support::TestApp;

#[tokio::test]
async fn every_documented_operation_declares_what_an_application_may_do() {
    let app = TestApp::spawn().await;
    let (user, _) = app.user().await;
    let registered = register_app(&app, false, "read write profile").await;
    let client = client(&app, &registered);
    let read = tokens_for(&app, &client, &user, &["read"]).await;
    let full = tokens_for(&app, &client, &user, &["read", "write", "profile"]).await;
    let tokens = [
        ("read", read.access_token().secret().clone()),
        ("full", full.access_token().secret().clone()),
    ];
    let document = app.get("/api/openapi.json", None).await.body;
    let mut walked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if path.starts_with("/oauth/") || path.starts_with("/.well-known/") {
            continue;
        }
        let concrete = path
            .replace("{slug}", "no-such-article")
            .replace("{username}", "nobody")
            .replace("{clientId}", "no-such-client")
            .replace("{id}", "1");
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            for (scopes, token) in &tokens {
                let request = app
                    .client
                    .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body("{}");
                let response = app.raw(request).await;
                assert_ne!(
                    response.status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{method} {path} with a {scopes} token: {}",
                    response.text
                );
                // Signing out reads only the session cookie: without one it ends nothing.
                let ends_nothing = path == "/api/session" && *method == "delete";
                if *scopes == "read" && *method != "get" && !ends_nothing {
                    assert!(
                        !response.status.is_success(),
                        "{method} {path} let a read-only token write"
                    );
                }
                walked += 1;
            }
        }
    }
    assert!(walked >= 80, "{walked} calls");
}
