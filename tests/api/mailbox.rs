//! A fake SMTP server (a third party) shared by every test in this binary, and the mail it
//! received, parsed as a mail client would (`mail-parser`). Every worker the tests start sends
//! its mail here, so a test finds its mail by its unique recipient whichever worker sent it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use quire::config::Settings;
use quire::mail::Mailer;
use tokio::sync::watch;

use crate::jobs::{queue, start_worker};
use crate::support::{SECRET, TestApp};

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
}

/// A received mail, parsed.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The sender's and the first recipient's addresses, as the headers say.
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Whether the plain-text part and the HTML part are alternatives of one
    /// `multipart/alternative` body.
    pub alternative: bool,
}

impl Mail {
    /// The first link of the plain-text part.
    pub fn link(&self) -> String {
        let link = regex::Regex::new(r"https?://\S+").unwrap();
        link.find(&self.text)
            .unwrap_or_else(|| panic!("no link in: {}", self.text))
            .as_str()
            .to_owned()
    }

    /// The `token` query parameter of the link.
    pub fn token(&self) -> String {
        let link = self.link();
        let query = link.split_once('?').expect("the link has a query").1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "token")
            .map(|(_, value)| value.into_owned())
            .expect("the link carries a token")
    }

    /// The link's path and query, to follow on a test server.
    pub fn path(&self) -> String {
        let link = self.link();
        let after_scheme = link.split_once("://").unwrap().1;
        after_scheme[after_scheme.find('/').unwrap()..].to_owned()
    }
}

struct Server {
    address: String,
    received: Mutex<Vec<Delivered>>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || converse(stream));
            }
        });
        Server {
            address,
            received: Mutex::new(Vec::new()),
        }
    })
}

/// `smtp://host:port` of the fake server.
pub fn smtp_url() -> String {
    format!("smtp://{}", server().address)
}

/// A mailer that sends to the fake server.
pub fn mailer() -> Mailer {
    let url = smtp_url();
    let settings = Settings::load_with(&[
        ("smtp_url", url.as_str()),
        ("jwt_secret", SECRET),
        ("log", "warn"),
    ])
    .expect("mail settings");
    Mailer::new(&settings).expect("mailer")
}

/// One SMTP session: enough of RFC 5321 for a client like lettre.
fn converse(stream: TcpStream) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut say = |line: &str| writer.write_all(format!("{line}\r\n").as_bytes()).is_ok();
    say("220 fake.test ESMTP");
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let ok = if command.starts_with("EHLO") || command.starts_with("HELO") {
            say("250-fake.test\r\n250-8BITMIME\r\n250 SMTPUTF8")
        } else if command.starts_with("MAIL FROM") {
            recipients.clear();
            say("250 OK")
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_matches(|c| c == '<' || c == '>');
            recipients.push(address.to_lowercase());
            say("250 OK")
        } else if command == "DATA" {
            say("354 end with <CRLF>.<CRLF>");
            let mut raw = Vec::new();
            loop {
                let mut data = String::new();
                if reader.read_line(&mut data).unwrap_or(0) == 0 {
                    return;
                }
                if data == ".\r\n" {
                    break;
                }
                let unstuffed = data.strip_prefix('.').unwrap_or(&data);
                raw.extend_from_slice(unstuffed.as_bytes());
            }
            server().received.lock().unwrap().push(Delivered {
                recipients: std::mem::take(&mut recipients),
                raw,
            });
            say("250 OK queued")
        } else if command == "QUIT" {
            say("221 bye");
            return;
        } else {
            say("250 OK")
        };
        if !ok {
            return;
        }
    }
}

impl Mail {
    /// A message as a mail client reads it (MIME).
    pub fn parse(raw: &[u8]) -> Mail {
        let message = MessageParser::default().parse(raw).expect("a MIME message");
        let address = |list: Option<&mail_parser::Address>| {
            list.and_then(|l| l.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_lowercase()
        };
        let alternative = message
            .content_type()
            .is_some_and(|ct| ct.ctype() == "multipart" && ct.subtype() == Some("alternative"));
        Mail {
            from: address(message.from()),
            to: address(message.to()),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message
                .body_text(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            html: message
                .body_html(0)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            alternative,
        }
    }
}

/// Every mail received so far for `to`, oldest first.
pub fn mail_for(to: &str) -> Vec<Mail> {
    let to = to.to_lowercase();
    server()
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|delivered| delivered.recipients.contains(&to))
        .map(|delivered| Mail::parse(&delivered.raw))
        .collect()
}

/// Waits (at most 20 s) for a mail to `to` whose subject contains `subject`.
pub async fn wait_for(to: &str, subject: &str) -> Mail {
    let started = Instant::now();
    loop {
        if let Some(mail) = mail_for(to)
            .into_iter()
            .rev()
            .find(|m| m.subject.contains(subject))
        {
            return mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no mail to {to} about `{subject}`; it has {:?}",
            mail_for(to).iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A worker sending `app`'s mail jobs to the fake server, for the life of the value. Several
/// may run at once on the suite's database: each test reads only the mail to its own unique
/// addresses, whichever worker sent it.
pub struct MailWorker {
    stop: watch::Sender<bool>,
}

impl MailWorker {
    pub async fn start(app: &TestApp) -> MailWorker {
        let db = queue(app).await;
        let (stop, _worker) = start_worker(&db, Duration::from_secs(30));
        MailWorker { stop }
    }
}

impl Drop for MailWorker {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Proves `email` for its account on `app` as its owner would: the link of the mail it got.
pub async fn prove_address(app: &TestApp, email: &str) {
    let _worker = MailWorker::start(app).await;
    let mail = wait_for(email, "Confirm your e-mail address").await;
    let proven = app
        .post(
            "/api/users/verify-email",
            None,
            serde_json::json!({ "token": mail.token() }),
        )
        .await;
    assert_eq!(proven.status, reqwest::StatusCode::OK, "{}", proven.text);
}
