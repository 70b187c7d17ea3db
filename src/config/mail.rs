//! Mail: how it leaves (an SMTP server, or in development a folder and the log), who it is from,
//! and the name the site signs its mail and pages with.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, bail};
use lettre::message::Mailbox;

use super::urls::sqlite_file;

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// `QUIRE_SMTP_URL`: `smtp://` (plain, or STARTTLS when offered; `?tls=required` insists),
    /// `smtps://` (implicit TLS), credentials in the URL.
    Smtp(String),
    /// Development without SMTP: each mail is a file in this folder and a line in the log.
    Folder(PathBuf),
    /// Production without SMTP: what needs mail is refused, naming `QUIRE_SMTP_URL`.
    Off,
}

#[derive(Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// `QUIRE_MAIL_FROM`, e.g. `Quire <no-reply@quire.example>`.
    pub from: Mailbox,
    /// `QUIRE_SITE_NAME`: how mail and pages name this site.
    pub site_name: String,
}

// The SMTP URL may carry a password.
impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.transport {
            MailTransport::Smtp(url) => format!("smtp {}", super::redact_url(url)),
            other => format!("{other:?}"),
        };
        f.debug_struct("MailSettings")
            .field("transport", &transport)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

pub(super) const DEFAULT_FROM: &str = "Quire <quire@localhost>";

impl MailSettings {
    pub(super) fn parse(
        smtp_url: &str,
        from: &str,
        site_name: &str,
        (production, database_url, public_url): (bool, &str, Option<&str>),
    ) -> anyhow::Result<Self> {
        let smtp_url = smtp_url.trim();
        let transport = if smtp_url.is_empty() {
            match production {
                true => MailTransport::Off,
                false => MailTransport::Folder(mail_folder(database_url)),
            }
        } else {
            if !(smtp_url.starts_with("smtp://") || smtp_url.starts_with("smtps://")) {
                bail!("QUIRE_SMTP_URL must start with smtp:// or smtps://");
            }
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp_url).context(
                "QUIRE_SMTP_URL is not a valid SMTP URL (smtp[s]://user:pass@host:port)",
            )?;
            MailTransport::Smtp(smtp_url.to_owned())
        };
        let from = Mailbox::from_str(from.trim()).with_context(|| {
            format!("QUIRE_MAIL_FROM must be an address like `Quire <no-reply@example.com>`, got `{from}`")
        })?;
        if production && transport != MailTransport::Off {
            if from.email.domain() == "localhost" {
                bail!("production sends mail: set QUIRE_MAIL_FROM to an address of your domain");
            }
            if public_url.is_none() {
                bail!("production sends mail with links: set QUIRE_PUBLIC_URL");
            }
        }
        let site_name = site_name.trim();
        if site_name.is_empty()
            || site_name.chars().count() > 60
            || site_name.contains(['\r', '\n'])
        {
            bail!("QUIRE_SITE_NAME must be 1-60 characters on one line");
        }
        Ok(MailSettings {
            transport,
            from,
            site_name: site_name.to_owned(),
        })
    }
}

/// Beside the embedded database (`quire.db` → `quire-mail/`), else in the working directory.
fn mail_folder(database_url: &str) -> PathBuf {
    match sqlite_file(database_url) {
        Some(file) => {
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "quire".into());
            file.with_file_name(format!("{stem}-mail"))
        }
        None => PathBuf::from("quire-mail"),
    }
}
