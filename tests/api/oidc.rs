//! Signing in with an OpenID Connect provider (a fake one the tests start): new accounts,
//! linking by verified e-mail or while signed in, the single-page app's one-time code, and
//! every ID token a verifier must refuse.

use reqwest::StatusCode;
use serde_json::json;

use crate::mailbox::prove_address;
use crate::oauth::http;
use crate::oidc_provider::{FakeProvider, Person, Spoil};
use crate::support::{Jar, PASSWORD, Response, TestApp, unique};

async fn with_provider(extra: &[(&str, &str)]) -> (TestApp, FakeProvider) {
    let provider = FakeProvider::start().await;
    let setting = provider.setting("fake");
    let mut settings = vec![("oidc_providers", setting.as_str())];
    settings.extend_from_slice(extra);
    (TestApp::spawn_with(&settings).await, provider)
}

async fn browse(jar: &mut Jar, url: &str) -> Response {
    let mut request = http().get(url);
    if !jar.0.is_empty() {
        request = request.header("cookie", jar.header());
    }
    let response = request.send().await.unwrap();
    let response = Response {
        status: response.status(),
        headers: response.headers().clone(),
        body: serde_json::Value::Null,
        text: response.text().await.unwrap(),
    };
    jar.take(&response);
    response
}

/// Follows the browser from `start` through the provider back to Quire's callback; returns
/// the callback's answer.
async fn sign_in(app: &TestApp, jar: &mut Jar, start: &str) -> Response {
    let started = browse(jar, &app.url(start)).await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.text);
    let at_provider = started.headers["location"].to_str().unwrap().to_owned();
    let back = browse(jar, &at_provider).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text);
    let callback = back.headers["location"].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&app.url("/auth/oidc/fake/callback")),
        "{callback}"
    );
    browse(jar, &callback).await
}

fn person(email: &str, verified: bool) -> Person {
    Person {
        subject: unique("sub-"),
        email: Some(email.to_owned()),
        email_verified: verified,
        preferred_username: Some(unique("oidc")),
        spoil: None,
    }
}

async fn session_user(app: &TestApp, jar: &Jar) -> Response {
    app.raw(
        app.client
            .get(app.url("/api/session"))
            .header("cookie", jar.header()),
    )
    .await
}

#[tokio::test]
async fn a_new_person_gets_an_account_and_a_session_and_comes_back_to_the_same_one() {
    let (app, provider) = with_provider(&[]).await;
    let someone = person(&format!("{}@example.com", unique("new")), true);
    provider.signs_in(someone.clone());

    let mut jar = Jar::default();
    let done = sign_in(&app, &mut jar, "/auth/oidc/fake/start?return_to=/welcome").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.headers["location"], "/welcome");
    assert!(jar.get("quire_session").is_some() && jar.get("quire_oidc").is_none());
    let me = session_user(&app, &jar).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["user"]["email"], someone.email.clone().unwrap());
    assert_eq!(
        me.body["user"]["username"],
        someone.preferred_username.clone().unwrap()
    );

    // Again, from a fresh browser: the same account, not a second one.
    let mut again = Jar::default();
    let done = sign_in(&app, &mut again, "/auth/oidc/fake/start").await;
    assert_eq!(done.headers["location"], "/");
    let me_again = session_user(&app, &again).await;
    assert_eq!(
        me_again.body["user"]["username"],
        me.body["user"]["username"]
    );
}

#[tokio::test]
async fn an_existing_account_is_linked_only_by_a_verified_email_or_while_signed_in() {
    let (app, provider) = with_provider(&[]).await;
    let (username, _) = app.user().await;
    let email = format!("{username}@example.com");

    // Unverified: refused, no session.
    provider.signs_in(person(&email.to_uppercase(), false));
    let mut jar = Jar::default();
    let refused = sign_in(&app, &mut jar, "/auth/oidc/fake/start").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(jar.get("quire_session").is_none());

    // Verified, once the account's owner proved the address too: linked to that account.
    prove_address(&app, &email).await;
    provider.signs_in(person(&email, true));
    let linked = sign_in(&app, &mut Jar::default(), "/auth/oidc/fake/start").await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text);
    let mut jar = Jar::default();
    jar.take(&linked);
    assert_eq!(
        session_user(&app, &jar).await.body["user"]["username"],
        username.as_str()
    );

    // Signed in with a password, any provider account (another e-mail) links to this user.
    let elsewhere = person(&format!("{}@elsewhere.example", unique("x")), false);
    provider.signs_in(elsewhere.clone());
    let mut browser = Jar::default();
    let csrf = browse(&mut browser, &app.url("/api/session/csrf")).await;
    assert_eq!(csrf.status, StatusCode::OK);
    let signed_in = app
        .raw(
            app.client
                .post(app.url("/api/session"))
                .header("cookie", browser.header())
                .header("x-csrftoken", browser.get("csrftoken").unwrap())
                .json(&json!({"user": {"email": email, "password": PASSWORD}})),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    browser.take(&signed_in);
    let done = sign_in(&app, &mut browser, "/auth/oidc/fake/start").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    provider.signs_in(elsewhere);
    let mut later = Jar::default();
    sign_in(&app, &mut later, "/auth/oidc/fake/start").await;
    assert_eq!(
        session_user(&app, &later).await.body["user"]["username"],
        username.as_str()
    );
}

#[tokio::test]
async fn discovery_and_keys_are_kept_and_fetched_again_when_the_provider_rotates_its_key() {
    let (app, provider) = with_provider(&[]).await;
    for _ in 0..2 {
        provider.signs_in(person(&format!("{}@example.com", unique("k")), true));
        let done = sign_in(&app, &mut Jar::default(), "/auth/oidc/fake/start").await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    }
    assert_eq!(
        provider.key_fetches(),
        1,
        "the keys are cached between sign-ins"
    );
    provider.rotate_keys();
    provider.signs_in(person(&format!("{}@example.com", unique("k")), true));
    let done = sign_in(&app, &mut Jar::default(), "/auth/oidc/fake/start").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(
        provider.key_fetches(),
        2,
        "an unknown key fetches the keys again, once"
    );
}

#[tokio::test]
async fn a_single_page_app_gets_a_one_time_code_for_a_realworld_token() {
    let (app, provider) = with_provider(&[("cors_origins", "http://app.example")]).await;
    let someone = person(&format!("{}@example.com", unique("spa")), true);
    provider.signs_in(someone.clone());
    let mut jar = Jar::default();
    let done = sign_in(
        &app,
        &mut jar,
        "/auth/oidc/fake/start?mode=spa&return_to=http://app.example/signed-in",
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let location = done.headers["location"].to_str().unwrap();
    assert!(
        location.starts_with("http://app.example/signed-in?code="),
        "{location}"
    );
    assert!(jar.get("quire_session").is_none());
    let code = crate::oauth::param(location, "code").unwrap();
    let exchanged = app
        .post("/api/auth/oidc", None, json!({"code": code}))
        .await;
    assert_eq!(exchanged.status, StatusCode::OK, "{}", exchanged.text);
    let token = exchanged.body["user"]["token"].as_str().unwrap();
    let me = app.get("/api/user", Some(token)).await;
    assert_eq!(me.body["user"]["email"], someone.email.unwrap());
    let again = app
        .post("/api/auth/oidc", None, json!({"code": code}))
        .await;
    again.assert_error(StatusCode::UNAUTHORIZED);
    app.post("/api/auth/oidc", None, json!({}))
        .await
        .assert_field_error("code");

    // Only listed origins may receive the code.
    let evil = browse(
        &mut Jar::default(),
        &app.url("/auth/oidc/fake/start?mode=spa&return_to=https://evil.example/cb"),
    )
    .await;
    assert_eq!(evil.status, StatusCode::BAD_REQUEST);
    let sneaky = browse(
        &mut Jar::default(),
        &app.url("/auth/oidc/fake/start?return_to=//evil.example/cb"),
    )
    .await;
    assert_eq!(sneaky.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn id_tokens_that_fail_any_check_sign_no_one_in() {
    let (app, provider) = with_provider(&[]).await;
    for spoil in [
        Spoil::Nonce,
        Spoil::Audience,
        Spoil::Issuer,
        Spoil::Expired,
        Spoil::Signature,
    ] {
        let mut someone = person(&format!("{}@example.com", unique("bad")), true);
        someone.spoil = Some(spoil);
        provider.signs_in(someone);
        let mut jar = Jar::default();
        let refused = sign_in(&app, &mut jar, "/auth/oidc/fake/start").await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{spoil:?}: {}",
            refused.text
        );
        assert!(jar.get("quire_session").is_none(), "{spoil:?}");
    }
    // Only a key the provider has not published yet is a reason to fetch the keys again.
    assert_eq!(provider.key_fetches(), 1);

    // A callback this browser did not start, or with another state, is refused too.
    provider.signs_in(person(&format!("{}@example.com", unique("ok")), true));
    let mut jar = Jar::default();
    let started = browse(&mut jar, &app.url("/auth/oidc/fake/start")).await;
    let back = browse(&mut jar, started.headers["location"].to_str().unwrap()).await;
    let callback = back.headers["location"].to_str().unwrap().to_owned();
    let stranger = browse(&mut Jar::default(), &callback).await;
    assert_eq!(stranger.status, StatusCode::BAD_REQUEST);
    let forged = browse(&mut jar.clone(), &callback.replace("state=", "state=x")).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let unknown = browse(&mut Jar::default(), &app.url("/auth/oidc/nobody/start")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_oauth2_sign_in_page_offers_the_providers_and_comes_back_to_the_consent() {
    let (app, provider) = with_provider(&[]).await;
    provider.signs_in(person(&format!("{}@example.com", unique("app")), true));
    let registered = crate::oauth::register_app(&app, false, "read").await;
    let client = crate::oauth::client(&app, &registered);
    let (url, _, _) = crate::oauth::authorization(&client, &["read"]);
    let mut jar = Jar::default();
    let login = browse(&mut jar, &url).await;
    assert_eq!(login.status, StatusCode::OK);
    let marker = r#"href="/auth/oidc/fake/start?return_to="#;
    let start = login.text.find(marker).expect("a link to the provider") + 6;
    let link = &login.text[start..start + login.text[start..].find('"').unwrap()];
    let link = html_escape::decode_html_entities(link).into_owned();
    let done = sign_in(&app, &mut jar, &link).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let back = done.headers["location"].to_str().unwrap();
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let consent = browse(&mut jar, &app.url(back)).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.text);
    assert!(consent.text.contains(&registered.name), "{}", consent.text);
}

/// The user behind a RealWorld token.
async fn user_of(app: &TestApp, token: &str) -> serde_json::Value {
    let me = app.get("/api/user", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    me.body["user"].clone()
}

/// The session's user after a provider sign-in (of whoever the provider signs in) that must
/// succeed.
async fn signed_in_as(app: &TestApp) -> serde_json::Value {
    let mut jar = Jar::default();
    let done = sign_in(app, &mut jar, "/auth/oidc/fake/start").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let me = session_user(app, &jar).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    me.body["user"].clone()
}

#[tokio::test]
async fn an_unverified_identity_never_captures_the_address_owner() {
    let (app, provider) = with_provider(&[]).await;
    let email = format!("{}@example.com", unique("zed"));

    // An identity the provider did not verify gets an account without that address: an
    // unverified address is never used.
    let squatter = person(&email, false);
    provider.signs_in(squatter.clone());
    let first = signed_in_as(&app).await;
    assert_ne!(first["email"], email.as_str());
    assert_eq!(first["emailVerified"], false);
    // So it blocks nobody: the address is still free to sign up with...
    let registered = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": unique("pw"), "email": email, "password": PASSWORD}}),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );

    // ...and the owner, verified by the provider (another subject), gets an account of their
    // own, holding the address, proven: neither the squatter's nor the unproven sign-up's.
    let owner = person(&email, true);
    provider.signs_in(owner.clone());
    let second = signed_in_as(&app).await;
    assert_ne!(second["username"], first["username"]);
    assert_ne!(second["username"], registered.body["user"]["username"]);
    assert_eq!(second["email"], email.as_str());
    assert_eq!(second["emailVerified"], true);

    // The unverified identity still signs in, to its own account; the owner keeps theirs.
    provider.signs_in(squatter);
    let again = signed_in_as(&app).await;
    assert_eq!(again["username"], first["username"]);
    assert_ne!(again["email"], email.as_str());
    provider.signs_in(owner);
    assert_eq!(signed_in_as(&app).await["username"], second["username"]);
}

#[tokio::test]
async fn a_password_account_on_someone_elses_address_never_captures_its_owner() {
    let (app, provider) = with_provider(&[]).await;
    let email = format!("{}@example.com", unique("victim"));
    // Someone registers with the victim's address (never proven).
    let registered = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": unique("squatter"), "email": email, "password": PASSWORD}}),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );
    let squatter_token = registered.body["user"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The owner signs in with a provider that verified the address: not merged.
    provider.signs_in(person(&email, true));
    let owner = signed_in_as(&app).await;
    assert_ne!(owner["username"], registered.body["user"]["username"]);
    assert_eq!(owner["email"], email.as_str());
    assert_eq!(owner["emailVerified"], true);

    // The registrant's password does not open the owner's account: the address is the
    // owner's now, and the squatter's account lost it.
    let login = app
        .post(
            "/api/users/login",
            None,
            json!({"user": {"email": email, "password": PASSWORD}}),
        )
        .await;
    login.assert_error(StatusCode::UNAUTHORIZED);
    let squatter = user_of(&app, &squatter_token).await;
    assert_ne!(squatter["email"], email.as_str());
    assert_eq!(squatter["emailVerified"], false);
    // The settings form, sent back as it was shown (with the placeholder), saves the rest.
    let saved = app
        .put(
            "/api/user",
            Some(&squatter_token),
            json!({"user": {"email": squatter["email"], "bio": "still here"}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.body["user"]["bio"], "still here");
    assert_eq!(saved.body["user"]["email"], squatter["email"]);
    // Nor can the squatter take the address back.
    app.put(
        "/api/user",
        Some(&squatter_token),
        json!({"user": {"email": email}}),
    )
    .await
    .assert_field_error("email");
}

#[tokio::test]
async fn a_replayed_callback_is_refused_on_every_instance() {
    let provider = FakeProvider::start().await;
    let setting = provider.setting("fake");
    let (first, second) = TestApp::spawn_pair(&[("oidc_providers", setting.as_str())]).await;
    provider.signs_in(person(&format!("{}@example.com", unique("once")), true));
    let mut jar = Jar::default();
    let started = browse(&mut jar, &first.url("/auth/oidc/fake/start")).await;
    let back = browse(&mut jar, started.headers["location"].to_str().unwrap()).await;
    let callback = back.headers["location"].to_str().unwrap().to_owned();
    let attempt_cookie = jar.clone();
    let done = browse(&mut jar, &callback).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);

    // The same callback with the same attempt cookie, here and on the other instance.
    for app in [&first, &second] {
        let path = &callback[callback.find("/auth/").unwrap()..];
        let replayed = browse(&mut attempt_cookie.clone(), &app.url(path)).await;
        assert_eq!(
            replayed.status,
            StatusCode::BAD_REQUEST,
            "{}",
            replayed.text
        );
        assert!(replayed.text.contains("already used"), "{}", replayed.text);
    }
}
