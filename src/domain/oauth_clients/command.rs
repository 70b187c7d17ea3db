//! `quire oauth-client`: registering, listing and removing third-party applications.

use clap::Subcommand;
use sea_orm::DatabaseConnection;

use super::{NewClient, delete, list, register};
use crate::error::Error;

#[derive(Subcommand)]
pub enum OauthClientCommand {
    /// Register an application. A confidential client's secret is printed once, never again.
    Create {
        /// The name users see on the consent page.
        #[arg(long)]
        name: String,
        /// Where users may be sent back to, matched exactly; repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// An app that cannot keep a secret (in a browser or on a phone): it must use PKCE.
        #[arg(
            long,
            conflicts_with = "confidential",
            required_unless_present = "confidential"
        )]
        public: bool,
        /// A server-side app that keeps a secret.
        #[arg(long)]
        confidential: bool,
        /// The scopes it may ask for: read, write, profile (space- or comma-separated).
        #[arg(long, default_value = "read")]
        scopes: String,
    },
    /// Every registered application (secrets are never shown).
    List,
    /// Remove an application.
    Delete { client_id: String },
}

pub async fn run(db: &DatabaseConnection, command: OauthClientCommand) -> anyhow::Result<()> {
    match command {
        OauthClientCommand::Create {
            name,
            redirect_uris,
            public: _,
            confidential,
            scopes,
        } => {
            let new = NewClient {
                name: &name,
                redirect_uris: &redirect_uris,
                confidential,
                scopes: &scopes,
            };
            let registered = register(db, new).await.map_err(name_the_flag)?;
            let client = &registered.client;
            println!("client_id: {}", client.client_id);
            if let Some(secret) = &registered.secret {
                println!("client_secret: {secret}");
                eprintln!("the secret is shown only now: store it where the app can read it");
            }
            println!("type: {}", kind(client.confidential));
            println!("scopes: {}", client.scopes);
            for uri in client.redirect_uris.lines() {
                println!("redirect_uri: {uri}");
            }
        }
        OauthClientCommand::List => {
            println!(
                "{:<26} {:<13} {:<20} {:<24} REDIRECT URIS",
                "CLIENT ID", "TYPE", "SCOPES", "NAME"
            );
            for client in list(db).await? {
                let uris: Vec<&str> = client.redirect_uris.lines().collect();
                println!(
                    "{:<26} {:<13} {:<20} {:<24} {}",
                    client.client_id,
                    kind(client.confidential),
                    client.scopes,
                    client.name,
                    uris.join(" ")
                );
            }
        }
        OauthClientCommand::Delete { client_id } => {
            delete(db, &client_id).await.map_err(|err| match err {
                Error::NotFound(_) => anyhow::anyhow!("no OAuth2 client {client_id}"),
                other => other.into(),
            })?;
            eprintln!("deleted {client_id}");
        }
    }
    Ok(())
}

fn kind(confidential: bool) -> &'static str {
    if confidential {
        "confidential"
    } else {
        "public"
    }
}

/// A rule broken by a value becomes an error naming the option that gave it.
fn name_the_flag(err: Error) -> anyhow::Error {
    match err {
        Error::Validation(fields) => {
            let problems: Vec<String> = fields
                .into_iter()
                .flat_map(|(field, messages)| {
                    let flag = format!("--{}", field.replace('_', "-"));
                    messages
                        .into_iter()
                        .map(move |message| format!("{flag}: {message}"))
                })
                .collect();
            anyhow::anyhow!(problems.join("; "))
        }
        other => other.into(),
    }
}
