//! Third-party applications registered as OAuth2 clients: who they are, where a user may be
//! sent back to, and which scopes they may ask for. An operator registers them
//! ([`command`]: `quire oauth-client`); a confidential client's secret is shown once and kept
//! only as a digest.

pub mod command;

use axum::http::Uri;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use subtle::ConstantTimeEq;

use crate::auth::refresh::{digest, random_text};
use crate::db::entities::oauth_clients;
use crate::db::now_ms;
use crate::error::{Error, Result};

const MAX_NAME_CHARS: usize = 100;
const MAX_REDIRECT_URIS: usize = 10;
const MAX_REDIRECT_URI_BYTES: usize = 2048;

/// What an access token lets an application do for its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read everything the user can see.
    Read,
    /// Write as the user.
    Write,
    /// See the user's own e-mail address.
    Profile,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Profile];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Profile => "profile",
        }
    }

    fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.name() == name)
    }
}

/// A set of scopes written as OAuth2 does (space-separated; commas accepted too), sorted and
/// without repeats.
pub fn parse_scopes(text: &str) -> Result<Scopes> {
    let mut scopes = Vec::new();
    for name in text.split([' ', ',']).filter(|name| !name.is_empty()) {
        let scope = Scope::parse(name).ok_or_else(|| {
            Error::field(
                "scopes",
                format!("unknown scope `{name}`: use read, write or profile"),
            )
        })?;
        scopes.push(scope);
    }
    if scopes.is_empty() {
        return Err(Error::field(
            "scopes",
            "give at least one of read, write, profile",
        ));
    }
    Ok(Scopes::of(&scopes))
}

/// A set of scopes, as a client, a consent or a token holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(
            scopes
                .iter()
                .fold(0, |bits, scope| bits | Self::bit(*scope)),
        )
    }

    /// A set as stored (written by [`Scopes::names`]); unknown names are ignored.
    pub fn stored(text: &str) -> Scopes {
        Scopes::of(&text.split(' ').filter_map(Scope::parse).collect::<Vec<_>>())
    }

    fn bit(scope: Scope) -> u8 {
        1 << scope as u8
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & Self::bit(scope) != 0
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: Scopes) -> bool {
        other.0 & !self.0 == 0
    }

    pub fn union(self, other: Scopes) -> Scopes {
        Scopes(self.0 | other.0)
    }

    pub fn intersection(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn list(self) -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|scope| self.contains(*scope))
            .collect()
    }

    /// Space-separated, as OAuth2 writes a scope set.
    pub fn names(self) -> String {
        self.list()
            .iter()
            .map(|scope| scope.name())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A redirect URI is matched exactly, so it must be exact: absolute, `https` (or `http` to a
/// loopback address, for apps on the user's own machine), with no fragment (RFC 6749 §3.1.2).
pub fn parse_redirect_uri(text: &str) -> Result<String> {
    let invalid = |why: &str| Error::field("redirect_uri", format!("`{text}` {why}"));
    if text.len() > MAX_REDIRECT_URI_BYTES {
        return Err(invalid("is too long"));
    }
    if text.contains('#') {
        return Err(invalid("must not have a fragment"));
    }
    let uri: Uri = text.parse().map_err(|_| invalid("is not a URI"))?;
    let host = uri
        .host()
        .ok_or_else(|| invalid("must be absolute, with a host"))?;
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        _ => return Err(invalid("must use https (http only to localhost)")),
    }
    Ok(text.to_owned())
}

/// A registered client as the authorization server uses it.
#[derive(Debug, Clone)]
pub struct Client {
    /// The row's id, which grants refer to.
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    secret_digest: Option<String>,
    pub redirect_uris: Vec<String>,
    /// The most it may ask for.
    pub scopes: Scopes,
}

impl Client {
    /// Whether `secret` is this confidential client's secret (compared in constant time).
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_digest.as_ref().is_some_and(|expected| {
            bool::from(digest(secret).as_bytes().ct_eq(expected.as_bytes()))
        })
    }
}

impl From<oauth_clients::Model> for Client {
    fn from(model: oauth_clients::Model) -> Self {
        Client {
            id: model.id,
            redirect_uris: model.redirect_uris.lines().map(str::to_owned).collect(),
            scopes: Scopes::stored(&model.scopes),
            client_id: model.client_id,
            name: model.name,
            confidential: model.confidential,
            secret_digest: model.secret_digest,
        }
    }
}

/// The client registered as `client_id`, if any.
pub async fn find(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<Client>> {
    Ok(oauth_clients::Entity::find()
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .map(Client::from))
}

/// A client just registered, with its secret in the clear (confidential clients only): the
/// one time it can be shown.
pub struct Registered {
    pub client: oauth_clients::Model,
    pub secret: Option<String>,
}

pub struct NewClient<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub confidential: bool,
    pub scopes: &'a str,
}

pub async fn register(db: &DatabaseConnection, new: NewClient<'_>) -> Result<Registered> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::field(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if new.redirect_uris.is_empty() || new.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(Error::field(
            "redirect_uri",
            format!("give 1 to {MAX_REDIRECT_URIS} redirect URIs"),
        ));
    }
    let redirect_uris = new
        .redirect_uris
        .iter()
        .map(|uri| parse_redirect_uri(uri))
        .collect::<Result<Vec<_>>>()?;
    let scopes = parse_scopes(new.scopes)?;
    let secret = new.confidential.then(|| format!("qs_{}", random_text(32)));
    let client = oauth_clients::ActiveModel {
        client_id: Set(format!("qc_{}", random_text(16))),
        name: Set(name.to_owned()),
        confidential: Set(new.confidential),
        secret_digest: Set(secret.as_deref().map(digest)),
        redirect_uris: Set(redirect_uris.join("\n")),
        scopes: Set(scopes.names()),
        created_at: Set(now_ms()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Registered { client, secret })
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<oauth_clients::Model>> {
    Ok(oauth_clients::Entity::find()
        .order_by_asc(oauth_clients::Column::Id)
        .all(db)
        .await?)
}

pub async fn delete(db: &DatabaseConnection, client_id: &str) -> Result<()> {
    let deleted = oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound("OAuth2 client"));
    }
    Ok(())
}
