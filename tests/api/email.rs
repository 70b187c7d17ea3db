//! Verified e-mail and recovery by mail, end to end through the job queue and a (fake) SMTP
//! server: the link at sign-up and at every change of address, sending it again, the
//! password reset that only a proven address can ask for, the notices, the budgets, and a
//! production server without mail.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::mailbox::{MailWorker, mail_for, prove_address, wait_for};
use crate::support::{PASSWORD, TestApp, unique};

const CONFIRM: &str = "Confirm your e-mail address";

/// Registers a user with a fresh address: (email, RealWorld token).
async fn register(app: &TestApp) -> (String, String) {
    let username = unique("mail");
    let email = format!("{username}@example.com");
    let created = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": username, "email": email, "password": PASSWORD}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = created.body["user"]["token"].as_str().unwrap().to_owned();
    (email, token)
}

async fn me(app: &TestApp, token: &str) -> Value {
    let me = app.get("/api/user", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    me.body["user"].clone()
}

/// A browser posting a page's form.
async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> crate::support::Response {
    app.raw(app.client.post(app.url(path)).form(fields)).await
}

#[tokio::test]
async fn sign_up_mails_a_link_and_only_confirming_it_proves_the_address() {
    let app = TestApp::spawn_with(&[("site_name", "Daily Quire")]).await;
    let _worker = MailWorker::start(&app).await;
    let (email, token) = register(&app).await;
    assert_eq!(me(&app, &token).await["emailVerified"], false);

    let mail = wait_for(&email, CONFIRM).await;
    assert!(mail.subject.contains("Daily Quire"), "{}", mail.subject);
    assert!(
        mail.alternative,
        "a plain-text part with an HTML alternative"
    );
    let link = mail.link();
    assert!(link.contains("/verify-email?token="), "{link}");
    assert!(
        mail.html
            .contains(&html_escape::encode_double_quoted_attribute(&link).into_owned())
    );

    // Opening the link (as a mail scanner would, twice) names the address and the account,
    // shows a button, and proves nothing.
    let username = me(&app, &token).await["username"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        let page = app.raw(app.client.get(app.url(&mail.path()))).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains(r#"action="/verify-email""#));
        assert!(page.text.contains(&email) && page.text.contains(&username));
    }
    assert_eq!(me(&app, &token).await["emailVerified"], false);

    // The button proves it.
    let confirmed = post_form(&app, "/verify-email", &[("token", &mail.token())]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert!(confirmed.text.contains(&email));
    assert_eq!(me(&app, &token).await["emailVerified"], true);

    // Once only; nonsense and nothing are refused with the field named.
    let again = app
        .post(
            "/api/users/verify-email",
            None,
            json!({"token": mail.token()}),
        )
        .await;
    again.assert_field_error("token");
    let again_page = post_form(&app, "/verify-email", &[("token", &mail.token())]).await;
    assert_eq!(again_page.status, StatusCode::BAD_REQUEST);
    let spent_link = app.raw(app.client.get(app.url(&mail.path()))).await;
    assert_eq!(spent_link.status, StatusCode::BAD_REQUEST);
    app.post(
        "/api/users/verify-email",
        None,
        json!({"token": "nonsense"}),
    )
    .await
    .assert_field_error("token");
    app.post("/api/users/verify-email", None, json!({}))
        .await
        .assert_field_error("token");
}

#[tokio::test]
async fn the_link_is_sent_again_on_request_and_a_new_address_must_be_proven_again() {
    let app = TestApp::spawn().await;
    let _worker = MailWorker::start(&app).await;
    let (email, token) = register(&app).await;
    let first = wait_for(&email, CONFIRM).await;

    let resent = app
        .post("/api/user/verify-email", Some(&token), json!({}))
        .await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    let started = std::time::Instant::now();
    while mail_for(&email).len() < 2 {
        assert!(started.elapsed().as_secs() < 20, "no second mail");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let second = wait_for(&email, CONFIRM).await;
    assert_ne!(second.token(), first.token());
    let verified = app
        .post(
            "/api/users/verify-email",
            None,
            json!({"token": second.token()}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["email"], email.as_str());
    assert_eq!(verified.body["emailVerified"], true);
    app.post("/api/user/verify-email", Some(&token), json!({}))
        .await
        .assert_field_error("email");
    app.post("/api/user/verify-email", None, json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);

    // A new address: claimed, not proven; the old address is told, the new one gets a link;
    // the first link (to the old address) no longer proves anything.
    let new_email = format!("{}@example.com", unique("moved"));
    let changed = app
        .put(
            "/api/user",
            Some(&token),
            json!({"user": {"email": new_email}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["user"]["emailVerified"], false);
    let notice = wait_for(&email, "e-mail address was changed").await;
    assert!(notice.text.contains(&new_email), "{}", notice.text);
    let link = wait_for(&new_email, CONFIRM).await;
    app.post(
        "/api/users/verify-email",
        None,
        json!({"token": first.token()}),
    )
    .await
    .assert_field_error("token");
    let proven = app
        .post(
            "/api/users/verify-email",
            None,
            json!({"token": link.token()}),
        )
        .await;
    assert_eq!(proven.status, StatusCode::OK, "{}", proven.text);
    assert_eq!(me(&app, &token).await["emailVerified"], true);
}

#[tokio::test]
async fn a_password_reset_reaches_only_a_proven_address_and_signs_the_account_out_everywhere() {
    let app = TestApp::spawn().await;
    let (unproven, _) = register(&app).await;
    let (email, token) = register(&app).await;
    prove_address(&app, &email).await;
    let pair = app
        .post(
            "/api/auth/token",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(pair.status, StatusCode::OK, "{}", pair.text);
    let _worker = MailWorker::start(&app).await;

    // The same answer for an unproven address, an unknown one and a proven one.
    let mut answers = Vec::new();
    for address in [
        unproven.clone(),
        format!("{}@example.com", unique("nobody")),
        email.clone(),
    ] {
        let asked = app
            .post(
                "/api/users/password-reset",
                None,
                json!({"user": {"email": address}}),
            )
            .await;
        assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text);
        answers.push(asked.text);
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    app.post(
        "/api/users/password-reset",
        None,
        json!({"user": {"email": "not an address"}}),
    )
    .await
    .assert_field_error("email");

    let mail = wait_for(&email, "Reset your").await;
    assert!(mail.alternative);
    assert!(mail.link().contains("/reset-password?token="));
    // A scanner's GETs spend nothing: the page shows the form each time.
    for _ in 0..2 {
        let page = app.raw(app.client.get(app.url(&mail.path()))).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains(r#"name="password""#));
    }
    let confirm = |password: &str| json!({"reset": {"token": mail.token(), "password": password}});
    app.post("/api/users/password-reset/confirm", None, confirm("short"))
        .await
        .assert_field_error("password");
    let new_password = "a-brand-new-password";
    let reset = app
        .post(
            "/api/users/password-reset/confirm",
            None,
            confirm(new_password),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    app.post(
        "/api/users/password-reset/confirm",
        None,
        confirm("another-password"),
    )
    .await
    .assert_field_error("token");

    // Signed out everywhere: the old token and the refresh token are dead; the new password
    // signs in, the old one does not.
    app.get("/api/user", Some(&token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refreshToken": pair.body["refreshToken"]}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
    let login = |password: &str| json!({"user": {"email": email, "password": password}});
    app.post("/api/users/login", None, login(PASSWORD))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    let signed_in = app
        .post("/api/users/login", None, login(new_password))
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    wait_for(&email, "password was changed").await;

    // The page's own form works too, and says what is wrong with a password it refuses.
    app.post(
        "/api/users/password-reset",
        None,
        json!({"user": {"email": email}}),
    )
    .await;
    let started = std::time::Instant::now();
    let second = loop {
        let resets: Vec<_> = mail_for(&email)
            .into_iter()
            .filter(|m| m.subject.contains("Reset your"))
            .collect();
        if resets.len() == 2 {
            break resets[1].clone();
        }
        assert!(started.elapsed().as_secs() < 20, "no second reset mail");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let token = second.token();
    let short = [("token", token.as_str()), ("password", "short")];
    let refused = post_form(&app, "/reset-password", &short).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("too short"), "{}", refused.text);
    let same = [("token", token.as_str()), ("password", "third-password")];
    let done = post_form(&app, "/reset-password", &same).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let signed_in = app
        .post("/api/users/login", None, login("third-password"))
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);

    // The unproven address was never sent a link.
    assert!(
        mail_for(&unproven)
            .iter()
            .all(|m| !m.subject.contains("Reset")),
        "an unproven address got a reset link"
    );
}

#[tokio::test]
async fn changing_a_password_and_authorizing_an_application_send_notices() {
    let app = TestApp::spawn().await;
    let _worker = MailWorker::start(&app).await;
    let username = unique("notice");
    let email = format!("{username}@example.com");
    let created = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": username, "email": email, "password": PASSWORD}}),
        )
        .await;
    let token = created.body["user"]["token"].as_str().unwrap().to_owned();
    let registered = crate::oauth::register_app(&app, false, "read").await;
    let client = crate::oauth::client(&app, &registered);
    crate::oauth::tokens_for(&app, &client, &username, &["read"]).await;
    let authorized = wait_for(&email, "can now use your").await;
    assert!(
        authorized.text.contains(&registered.name),
        "{}",
        authorized.text
    );

    let changed = app
        .put(
            "/api/user",
            Some(&token),
            json!({"user": {"password": "a-changed-password"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    wait_for(&email, "password was changed").await;
}

#[tokio::test]
async fn mail_has_a_budget_per_address() {
    let app = TestApp::spawn_with(&[
        ("rate_limits_enabled", "true"),
        ("rate_limit_auth", "1000/min"),
        ("rate_limit_mail", "2/h"),
    ])
    .await;
    let (email, token) = register(&app).await;
    for _ in 0..2 {
        let sent = app
            .post("/api/user/verify-email", Some(&token), json!({}))
            .await;
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text);
    }
    let refused = app
        .post("/api/user/verify-email", Some(&token), json!({}))
        .await;
    refused.assert_error(StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key("retry-after"));
    // The budget is the address's, whoever asks and for whatever mail.
    app.post(
        "/api/users/password-reset",
        None,
        json!({"user": {"email": email}}),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn production_without_smtp_refuses_what_needs_mail_and_names_the_setting() {
    let app = TestApp::spawn_with(&[
        ("env", "production"),
        ("cors_origins", "https://app.example"),
    ])
    .await;
    let (email, token) = register(&app).await;
    let resend = app
        .post("/api/user/verify-email", Some(&token), json!({}))
        .await;
    resend.assert_error(StatusCode::SERVICE_UNAVAILABLE);
    assert!(resend.text.contains("QUIRE_SMTP_URL"), "{}", resend.text);
    let reset = app
        .post(
            "/api/users/password-reset",
            None,
            json!({"user": {"email": email}}),
        )
        .await;
    reset.assert_error(StatusCode::SERVICE_UNAVAILABLE);
    assert!(reset.text.contains("QUIRE_SMTP_URL"), "{}", reset.text);
}

#[tokio::test]
async fn graphql_shows_and_proves_the_address() {
    let app = TestApp::spawn().await;
    let _worker = MailWorker::start(&app).await;
    let (email, token) = register(&app).await;
    let query = |q: &str| json!({ "query": q });
    let me = app
        .post(
            "/graphql",
            Some(&token),
            query("{ me { email emailVerified } }"),
        )
        .await;
    assert_eq!(me.body["data"]["me"]["emailVerified"], false, "{}", me.text);
    let mail = wait_for(&email, CONFIRM).await;
    let verified = app
        .post(
            "/graphql",
            None,
            json!({
                "query": "mutation($t: String!) { verifyEmail(token: $t) }",
                "variables": {"t": mail.token()},
            }),
        )
        .await;
    assert_eq!(
        verified.body["data"]["verifyEmail"], true,
        "{}",
        verified.text
    );
    let me = app
        .post("/graphql", Some(&token), query("{ me { emailVerified } }"))
        .await;
    assert_eq!(me.body["data"]["me"]["emailVerified"], true, "{}", me.text);
    let spent = app
        .post(
            "/graphql",
            None,
            json!({
                "query": "mutation($t: String!) { verifyEmail(token: $t) }",
                "variables": {"t": mail.token()},
            }),
        )
        .await;
    assert!(spent.body["errors"].is_array(), "{}", spent.text);

    // Recovery by mail, the same rules as REST.
    let asked = app
        .post(
            "/graphql",
            None,
            json!({
                "query": "mutation($e: String!) { requestPasswordReset(email: $e) }",
                "variables": {"e": email},
            }),
        )
        .await;
    assert_eq!(
        asked.body["data"]["requestPasswordReset"], true,
        "{}",
        asked.text
    );
    let mail = wait_for(&email, "Reset your").await;
    let reset = |password: &str| {
        json!({
            "query": "mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) }",
            "variables": {"t": mail.token(), "p": password},
        })
    };
    let short = app.post("/graphql", None, reset("short")).await;
    assert!(short.body["errors"].is_array(), "{}", short.text);
    let done = app
        .post("/graphql", None, reset("graphql-new-password"))
        .await;
    assert_eq!(done.body["data"]["resetPassword"], true, "{}", done.text);
    let login = app
        .post(
            "/api/users/login",
            None,
            json!({"user": {"email": email, "password": "graphql-new-password"}}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    // The token of before the reset no longer works.
    let stale = app
        .post("/graphql", Some(&token), query("{ me { email } }"))
        .await;
    assert!(
        stale.body["errors"].is_array() || stale.status == StatusCode::UNAUTHORIZED,
        "{}",
        stale.text
    );
}

#[tokio::test]
async fn the_owner_of_an_address_someone_claimed_frees_it_by_mail_and_signs_up_with_it() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("owner"));
    let squatter = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": unique("squat"), "email": email, "password": PASSWORD}}),
        )
        .await;
    assert_eq!(squatter.status, StatusCode::CREATED, "{}", squatter.text);
    let squatter_token = squatter.body["user"]["token"].as_str().unwrap().to_owned();
    let _worker = MailWorker::start(&app).await;
    let sign_up = || json!({"user": {"username": unique("real"), "email": email, "password": "owners-password"}});
    app.post("/api/users", None, sign_up())
        .await
        .assert_field_error("email");

    // Asking for a password reset reaches no account through the unproven address: the
    // owner is offered a link that frees it instead.
    let asked = app
        .post(
            "/api/users/password-reset",
            None,
            json!({"user": {"email": email}}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    let mail = wait_for(&email, "never confirmed it").await;
    assert!(
        mail.link().contains("/release-email?token="),
        "{}",
        mail.text
    );
    assert!(
        mail_for(&email)
            .iter()
            .all(|m| !m.subject.contains("Reset your"))
    );
    for _ in 0..2 {
        let page = app.raw(app.client.get(app.url(&mail.path()))).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    }
    assert_eq!(me(&app, &squatter_token).await["email"], email.as_str());

    let freed = post_form(&app, "/release-email", &[("token", &mail.token())]).await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.text);
    let again = post_form(&app, "/release-email", &[("token", &mail.token())]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // The owner signs up with it; the squatter's account keeps everything but the address.
    let owner = app.post("/api/users", None, sign_up()).await;
    assert_eq!(owner.status, StatusCode::CREATED, "{}", owner.text);
    let squatter = me(&app, &squatter_token).await;
    assert_ne!(squatter["email"], email.as_str());
    app.post(
        "/api/users/login",
        None,
        json!({"user": {"email": email, "password": PASSWORD}}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_mail_requests_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let confirm = "/api/users/password-reset/confirm";
    // An envelope that is not an object never fills fields by position.
    app.post(
        confirm,
        None,
        json!({"reset": ["token", "a-long-password"]}),
    )
    .await
    .assert_field_error("reset");
    app.post(confirm, None, json!({}))
        .await
        .assert_field_error("reset");
    let blank = app.post(confirm, None, json!({"reset": {}})).await;
    blank.assert_field_error("token");
    blank.assert_field_error("password");
    app.post(
        confirm,
        None,
        json!({"reset": {"token": "x\u{0}y", "password": "a-long-password"}}),
    )
    .await
    .assert_field_error("token");
    app.post(
        "/api/users/password-reset",
        None,
        json!({"user": ["someone@example.com"]}),
    )
    .await
    .assert_field_error("user");
    app.post(
        "/api/users/password-reset",
        None,
        json!({"user": {"email": "a\u{0}@example.com"}}),
    )
    .await
    .assert_field_error("email");
    app.post("/api/users/verify-email", None, json!({"token": 42}))
        .await
        .assert_field_error("token");
    // The pages answer a page, never a 5xx, to garbage.
    for path in ["/verify-email", "/reset-password", "/release-email"] {
        let garbage = app
            .raw(
                app.client
                    .post(app.url(path))
                    .form(&[("token", "x\u{0}"), ("token", "y")]),
            )
            .await;
        assert_eq!(
            garbage.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            garbage.text
        );
        let json = app
            .raw(app.client.post(app.url(path)).json(&json!({"token": "x"})))
            .await;
        assert!(json.status.is_client_error(), "{path}: {}", json.status);
    }
}

/// The queued mail is sealed: the database holds no live link (its tokens only as digests).
#[tokio::test]
async fn a_queued_mail_holds_no_live_link() {
    use quire::db::entities::jobs::{Column, Entity as JobRows};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    // A database of its own: no other test's worker takes the job before it is read.
    let app = TestApp::spawn_own(&[]).await;
    let (email, _) = register(&app).await;
    let outbox = crate::jobs::queue(&app).await;
    let queued: Vec<String> = JobRows::find()
        .filter(Column::Kind.eq("mail"))
        .all(&outbox)
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.payload)
        .collect();
    assert_eq!(queued.len(), 1, "the sign-up queued its mail");
    assert!(
        !queued[0].contains("token=") && !queued[0].contains(&email),
        "{queued:?}"
    );
    // And a worker opens and sends it.
    let _worker = MailWorker::start(&app).await;
    assert!(wait_for(&email, CONFIRM).await.link().contains("token="));
}
