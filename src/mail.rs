//! Sending mail (lettre): to the SMTP server of `QUIRE_SMTP_URL`, or in development without one,
//! to a folder of `.eml` files and the log, as Django's file and console backends do. Mail is
//! only ever sent by the `mail` job (enqueued in the transaction of the change that causes it),
//! so a slow or failing server delays mail, never a request.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::{MailSettings, MailTransport};

/// How long one delivery to the SMTP server may take before the attempt fails (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A mail to send: the `mail` job's payload.
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

/// Where mail goes, and who it is from.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Mailer> {
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
        })
    }

    /// Sends `mail`; the error says why it was not (the job retries).
    pub async fn send(&self, mail: &Outgoing) -> Result<(), String> {
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
