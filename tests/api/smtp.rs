//! The mail flows end to end against a real SMTP server process (aiosmtpd, Python's asyncio
//! SMTP server, started here into a Maildir), each mail read back as a mail client would:
//! a MIME message with a plain-text part, an HTML alternative and the link.
//!
//! `./scripts/test` installs aiosmtpd; without it the test is skipped, unless `CI=true`.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quire::config::Settings;
use quire::mail::Mailer;
use reqwest::StatusCode;
use serde_json::json;

use crate::jobs::{context, queue, start_worker_with};
use crate::mailbox::Mail;
use crate::support::{PASSWORD, SECRET, TestApp, free_port, unique};

struct SmtpServer {
    child: Child,
    folder: tempfile::TempDir,
    port: u16,
}

impl SmtpServer {
    /// The Maildir aiosmtpd creates (with its `tmp`, `new` and `cur`) on the first mail.
    fn maildir(&self) -> std::path::PathBuf {
        self.folder.path().join("Maildir")
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// aiosmtpd on a free loopback port, delivering into a fresh Maildir.
fn start_server() -> Option<SmtpServer> {
    if !aiosmtpd_installed() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "aiosmtpd is not installed (python3 -m pip install aiosmtpd) and CI=true"
        );
        eprintln!("skipping: aiosmtpd is not installed (python3 -m pip install aiosmtpd)");
        return None;
    }
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        // `-c` takes the rest of the line: the handler and its argument.
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(folder.path().join("Maildir"))
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let server = SmtpServer {
        child,
        folder,
        port,
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "aiosmtpd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

/// Every message in the Maildir addressed to `to`.
fn delivered(maildir: &Path, to: &str) -> Vec<Mail> {
    let mut files: Vec<_> = ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort_by_key(|file| std::fs::metadata(file).and_then(|m| m.modified()).ok());
    files
        .iter()
        .filter_map(|file| std::fs::read(file).ok())
        .map(|raw| Mail::parse(&raw))
        .filter(|mail| mail.to == to)
        .collect()
}

async fn wait_for(maildir: &Path, to: &str, subject: &str) -> Mail {
    let started = Instant::now();
    loop {
        if let Some(mail) = delivered(maildir, to)
            .into_iter()
            .find(|m| m.subject.contains(subject))
        {
            return mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no mail to {to} about `{subject}`"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sign_up_verification_and_password_reset_through_a_real_smtp_server() {
    let Some(server) = start_server() else { return };
    let smtp_url = format!("smtp://127.0.0.1:{}", server.port);
    let from = "Quire Mail <mail@quire.test>";
    let mail_settings = [
        ("smtp_url", smtp_url.as_str()),
        ("mail_from", from),
        ("public_url", "http://quire.test"),
    ];
    // Its own database: its worker must send no other test's mail to this server.
    let app = TestApp::spawn_own(&mail_settings).await;
    let mut settings = mail_settings.to_vec();
    settings.push(("jwt_secret", SECRET));
    let mailer = Mailer::new(&Settings::load_with(&settings).unwrap()).unwrap();
    let db = queue(&app).await;
    let worker_context = quire::jobs::Context {
        mailer,
        ..context(&db, &[])
    };
    let (stop, worker) = start_worker_with(worker_context, Duration::from_secs(30));

    let username = unique("smtp");
    let email = format!("{username}@example.com");
    let created = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": username, "email": email, "password": PASSWORD}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    let confirm = wait_for(&server.maildir(), &email, "Confirm your e-mail").await;
    assert_eq!(confirm.from, "mail@quire.test");
    assert!(confirm.alternative, "multipart/alternative");
    assert!(
        confirm
            .link()
            .starts_with("http://quire.test/verify-email?token=")
    );
    assert!(
        confirm
            .html
            .contains("http://quire.test/verify-email?token=")
    );
    let page = app.raw(app.client.get(app.url(&confirm.path()))).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = confirm.token();
    let confirmed = app
        .raw(
            app.client
                .post(app.url("/verify-email"))
                .form(&[("token", token.as_str())]),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);

    let asked = app
        .post(
            "/api/users/password-reset",
            None,
            json!({"user": {"email": email}}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    let reset = wait_for(&server.maildir(), &email, "Reset your").await;
    assert!(reset.alternative);
    let form = app.raw(app.client.get(app.url(&reset.path()))).await;
    assert_eq!(form.status, StatusCode::OK);
    let token = reset.token();
    let fields = [
        ("token", token.as_str()),
        ("password", "reset-by-real-mail"),
    ];
    let done = app
        .raw(app.client.post(app.url("/reset-password")).form(&fields))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let login = app
        .post(
            "/api/users/login",
            None,
            json!({"user": {"email": email, "password": "reset-by-real-mail"}}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    wait_for(&server.maildir(), &email, "password was changed").await;
    stop.send(true).unwrap();
    worker.await.unwrap();
}

/// An SMTP server that does not answer: the mail job fails, says why, and is queued again for
/// later (then, out of attempts, it is kept as `dead` like every job).
#[tokio::test]
async fn a_mail_the_server_does_not_take_is_retried_later_not_lost() {
    use quire::db::entities::jobs::{Column, Entity as JobRows};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let closed = format!("smtp://127.0.0.1:{}", free_port());
    let app = TestApp::spawn_own(&[]).await;
    let settings =
        Settings::load_with(&[("smtp_url", closed.as_str()), ("jwt_secret", SECRET)]).unwrap();
    let db = queue(&app).await;
    let worker_context = quire::jobs::Context {
        mailer: Mailer::new(&settings).unwrap(),
        ..context(&db, &[])
    };
    let username = unique("retry");
    let created = app
        .post(
            "/api/users",
            None,
            json!({"user": {"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let (stop, worker) = start_worker_with(worker_context, Duration::from_secs(30));
    let started = Instant::now();
    let failed = loop {
        let job = JobRows::find()
            .filter(Column::Kind.eq("mail"))
            .one(&db)
            .await
            .unwrap()
            .expect("the sign-up enqueued its mail");
        if job.attempts >= 1 && job.state == quire::jobs::JobState::Queued.as_str() {
            break job;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("SMTP"),
        "{failed:?}"
    );
    assert!(
        failed.run_at > quire::db::now_ms(),
        "retried later, not at once"
    );
    assert_eq!(
        failed.max_attempts,
        quire::jobs::Kind::Mail.retry().max_attempts
    );
}
