//! Sending mail (lettre): to the SMTP server of `QUIRE_SMTP_URL`, or in development without one,
//! to a folder of `.eml` files and the log, as Django's file and console backends do. Mail is
//! only ever sent by the `mail` job (enqueued in the transaction of the change that causes it),
//! so a slow or failing server delays mail, never a request. The job's payload is the mail
//! sealed (ChaCha20-Poly1305, a key derived from the server's secret): the links in it carry
//! live tokens, which the database otherwise keeps only as digests.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::{MailTransport, Settings};

/// How long one delivery to the SMTP server may take before the attempt fails (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A `mail` job's payload: an [`Outgoing`] mail sealed by [`Mailer::seal`], so that the
/// database never holds a live link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealedMail {
    sealed: String,
}

/// A mail to send (sealed into its job's payload).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    /// The plain-text part (every mail has one).
    pub text: String,
    /// The HTML alternative.
    pub html: String,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
    Off,
}

/// Where mail goes, who it is from, and the key its outbox entries are sealed with.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    seal: std::sync::Arc<LessSafeKey>,
}

impl Mailer {
    /// Every instance and worker of a deployment shares `QUIRE_JWT_SECRET`, so each opens what
    /// any other sealed.
    pub fn new(settings: &Settings) -> anyhow::Result<Mailer> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&settings.jwt_secret)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        mac.update(b"quire mail outbox");
        let key = UnboundKey::new(&CHACHA20_POLY1305, &mac.finalize().into_bytes())
            .map_err(|_| anyhow::anyhow!("the outbox key cannot be made"))?;
        let settings = &settings.mail;
        let transport = match &settings.transport {
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            MailTransport::Folder(folder) => Transport::Folder(folder.clone()),
            MailTransport::Off => Transport::Off,
        };
        Ok(Mailer {
            transport,
            from: settings.from.clone(),
            seal: std::sync::Arc::new(LessSafeKey::new(key)),
        })
    }

    /// `mail` as a `mail` job's payload: sealed, so the database never holds a live link.
    pub fn seal(&self, mail: &Outgoing) -> SealedMail {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut sealed = serde_json::to_vec(mail).expect("a mail serialises");
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .expect("ChaCha20-Poly1305 seals any length we send");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        SealedMail {
            sealed: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// Opens a payload [`Mailer::seal`] made and sends the mail in it.
    pub async fn deliver(&self, payload: &SealedMail) -> Result<(), String> {
        let sealed = URL_SAFE_NO_PAD
            .decode(&payload.sealed)
            .ok()
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or("not a sealed mail")?;
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "a bad nonce")?;
        let mut rest = rest.to_vec();
        let opened = self
            .seal
            .open_in_place(nonce, Aad::empty(), &mut rest)
            .map_err(|_| "the mail cannot be opened: sealed with another QUIRE_JWT_SECRET?")?;
        let mail: Outgoing =
            serde_json::from_slice(opened).map_err(|e| format!("not a mail: {e}"))?;
        self.send(&mail).await
    }

    /// Sends `mail`; the error says why it was not (the job retries).
    async fn send(&self, mail: &Outgoing) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("the recipient cannot be mailed: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| format!("the mail cannot be built: {e}"))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("the SMTP server did not take the mail: {e}")),
            Transport::Folder(folder) => {
                tokio::fs::create_dir_all(folder)
                    .await
                    .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
                let file = folder.join(format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"),
                    uuid::Uuid::new_v4().simple()
                ));
                tokio::fs::write(&file, message.formatted())
                    .await
                    .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                // Development only (no SMTP server): the mail is the developer's to read.
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    file = %file.display(),
                    "mail written (no QUIRE_SMTP_URL):\n{}",
                    mail.text
                );
                Ok(())
            }
            Transport::Off => Err("mail is off: set QUIRE_SMTP_URL".to_owned()),
        }
    }
}
