//! `quire oauth-client`: registering third-party applications on the test database.

use std::process::Output;

use crate::cli::quire_on_suite_database;
use crate::support::unique;

fn oauth_client(dir: &std::path::Path, args: &[&str]) -> Output {
    // `oauth-client` does not migrate: a fresh database is migrated first, as an operator would.
    let migrated = quire_on_suite_database(dir)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(migrated.status.success());
    quire_on_suite_database(dir)
        .arg("oauth-client")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The value printed after `key: `.
fn printed<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(": "))
}

#[test]
fn clients_are_registered_listed_and_deleted_and_a_secret_is_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique("Editor");
    let created = stdout(&oauth_client(
        dir.path(),
        &[
            "create",
            "--name",
            &name,
            "--redirect-uri",
            "https://editor.example/callback",
            "--redirect-uri",
            "http://127.0.0.1:8765/cb",
            "--confidential",
            "--scopes",
            "write,read write",
        ],
    ));
    let client_id = printed(&created, "client_id").unwrap().to_owned();
    let secret = printed(&created, "client_secret").unwrap().to_owned();
    assert!(client_id.starts_with("qc_") && secret.starts_with("qs_") && secret.len() > 40);
    assert_eq!(printed(&created, "type"), Some("confidential"));
    assert_eq!(printed(&created, "scopes"), Some("read write"));
    assert_eq!(created.matches("redirect_uri: ").count(), 2);

    let public = stdout(&oauth_client(
        dir.path(),
        &[
            "create",
            "--name",
            &unique("Reader"),
            "--redirect-uri",
            "https://reader.example/cb",
            "--public",
        ],
    ));
    let public_id = printed(&public, "client_id").unwrap().to_owned();
    assert_eq!(
        printed(&public, "client_secret"),
        None,
        "a public client has no secret"
    );
    assert_eq!(printed(&public, "type"), Some("public"));
    assert_eq!(printed(&public, "scopes"), Some("read"));

    let listed = stdout(&oauth_client(dir.path(), &["list"]));
    let line = listed
        .lines()
        .find(|line| line.starts_with(&client_id))
        .unwrap();
    assert!(
        line.contains(&name)
            && line.contains("confidential")
            && line.contains("https://editor.example/callback")
    );
    assert!(listed.contains(&public_id));
    assert!(!listed.contains(&secret), "the secret is never shown again");

    stdout(&oauth_client(dir.path(), &["delete", &client_id]));
    assert!(!stdout(&oauth_client(dir.path(), &["list"])).contains(&client_id));
    let again = oauth_client(dir.path(), &["delete", &client_id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no OAuth2 client"));
    stdout(&oauth_client(dir.path(), &["delete", &public_id]));
}

#[test]
fn registrations_that_break_a_rule_are_refused_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let name = unique("App");
    for (uri, scopes, flag) in [
        ("http://editor.example/cb", "read", "--redirect-uri"),
        ("https://editor.example/cb#part", "read", "--redirect-uri"),
        ("/callback", "read", "--redirect-uri"),
        ("ftp://editor.example/cb", "read", "--redirect-uri"),
        ("https://editor.example/cb", "read admin", "--scopes"),
        ("https://editor.example/cb", " ", "--scopes"),
    ] {
        let refused = oauth_client(
            dir.path(),
            &[
                "create",
                "--name",
                &name,
                "--redirect-uri",
                uri,
                "--public",
                "--scopes",
                scopes,
            ],
        );
        assert!(!refused.status.success(), "{uri} {scopes} was accepted");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(flag), "{uri} {scopes}: {stderr}");
    }
    let nameless = oauth_client(
        dir.path(),
        &[
            "create",
            "--name",
            "  ",
            "--redirect-uri",
            "https://a.example/cb",
            "--public",
        ],
    );
    assert!(String::from_utf8_lossy(&nameless.stderr).contains("--name"));
    for kinds in [&["--public", "--confidential"][..], &[][..]] {
        let mut args = vec![
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "https://a.example/cb",
        ];
        args.extend_from_slice(kinds);
        let refused = oauth_client(dir.path(), &args);
        assert!(!refused.status.success(), "{kinds:?} was accepted");
    }
    assert!(
        !stdout(&oauth_client(dir.path(), &["list"])).contains(&name),
        "nothing was registered"
    );
}
