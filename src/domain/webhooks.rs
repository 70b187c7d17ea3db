//! Webhook subscriptions: a user subscribes a URL to events about their own articles and
//! profile. Each event is enqueued as one delivery job per subscription **in the transaction of
//! the change**, so a rolled-back change sends nothing and a committed one always sends.

use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::db::entities::{users, webhook_deliveries, webhooks};
use crate::db::timestamp;
use crate::domain::now_ms;
use crate::error::{Error, Result};
use crate::jobs::{self, DeliverWebhook, JobPayload};
use crate::outbound::Outbound;

/// Subscriptions one user may hold.
pub const MAX_PER_USER: u64 = 20;
/// Delivery attempts listed at most per page.
const MAX_PAGE: u64 = 100;

/// What a subscription can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ArticlePublished,
    ArticleUpdated,
    ArticleDeleted,
    CommentCreated,
    ArticleFavorited,
    ProfileFollowed,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::ArticlePublished,
        Event::ArticleUpdated,
        Event::ArticleDeleted,
        Event::CommentCreated,
        Event::ArticleFavorited,
        Event::ProfileFollowed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::ArticlePublished => "article.published",
            Event::ArticleUpdated => "article.updated",
            Event::ArticleDeleted => "article.deleted",
            Event::CommentCreated => "comment.created",
            Event::ArticleFavorited => "article.favorited",
            Event::ProfileFollowed => "profile.followed",
        }
    }

    fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|event| event.name() == name)
    }
}

/// A subscription as its owner sees it; `secret` only in the answer that created it.
#[derive(Debug, Clone)]
/// What a PATCH of a subscription changes; `None` leaves a field as it is.
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub secret: Option<String>,
}

impl From<webhooks::Model> for Webhook {
    fn from(row: webhooks::Model) -> Self {
        Webhook {
            id: row.id,
            url: row.url,
            events: row.events.split(',').map(str::to_owned).collect(),
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            created_at: row.created_at,
            secret: None,
        }
    }
}

/// Webhook subscriptions and their delivery log: a service of its own (extracted with
/// `State<Webhooks>`), needing only the database and the guard on users' URLs.
#[derive(Clone)]
pub struct Webhooks {
    db: DatabaseConnection,
    outbound: Outbound,
}

impl Webhooks {
    pub fn new(db: DatabaseConnection, outbound: Outbound) -> Self {
        Webhooks { db, outbound }
    }

    /// The guard on requests to users' URLs (the worker delivers through it).
    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    pub async fn create(
        &self,
        user: i64,
        url: Option<String>,
        events: Option<Vec<String>>,
    ) -> Result<Webhook> {
        let mut problems = crate::error::Violations::default();
        let url = match url {
            None => problems.check::<String>("url", Err("is required".into())),
            Some(url) => problems.check("url", self.receiver_url(&url).await),
        };
        let events = problems.check("events", parse_events(events));
        problems.finish()?;
        let (url, events) = (url.unwrap_or_default(), events.unwrap_or_default());
        let held = webhooks::Entity::find()
            .filter(webhooks::Column::UserId.eq(user))
            .count(&self.db)
            .await?;
        if held >= MAX_PER_USER {
            return Err(Error::field(
                "webhook",
                format!("at most {MAX_PER_USER} subscriptions per user"),
            ));
        }
        let secret = new_secret();
        let row = webhooks::Entity::insert(webhooks::ActiveModel {
            user_id: Set(user),
            url: Set(url),
            events: Set(events.join(",")),
            secret: Set(secret.clone()),
            enabled: Set(true),
            disabled_reason: Set(None),
            created_at: Set(now_ms()),
            ..Default::default()
        })
        .exec_with_returning(&self.db)
        .await?;
        let mut webhook = Webhook::from(row);
        webhook.secret = Some(secret);
        Ok(webhook)
    }

    /// A partial change of one of `user`'s subscriptions (PATCH): what is given is checked as
    /// at creation; enabling a disabled subscription forgets why it was disabled.
    pub async fn update(&self, user: i64, id: i64, change: WebhookChange) -> Result<Webhook> {
        let mut problems = crate::error::Violations::default();
        let url = match change.url {
            Some(url) => problems.check("url", self.receiver_url(&url).await),
            None => None,
        };
        let events = match change.events {
            Some(events) => problems.check("events", parse_events(Some(events))),
            None => None,
        };
        problems.finish()?;
        let row = webhooks::Entity::find_by_id(id)
            .filter(webhooks::Column::UserId.eq(user))
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound("webhook"))?;
        let mut changed: webhooks::ActiveModel = row.into();
        if let Some(url) = url {
            changed.url = Set(url);
        }
        if let Some(events) = events {
            changed.events = Set(events.join(","));
        }
        match change.enabled {
            Some(true) => {
                changed.enabled = Set(true);
                changed.disabled_reason = Set(None);
            }
            Some(false) => {
                changed.enabled = Set(false);
                changed.disabled_reason = Set(Some("disabled by its owner".into()));
            }
            None => {}
        }
        match changed.update(&self.db).await {
            Ok(row) => Ok(Webhook::from(row)),
            // Deleted meanwhile.
            Err(sea_orm::DbErr::RecordNotUpdated) => Err(Error::NotFound("webhook")),
            Err(err) => Err(err.into()),
        }
    }

    /// A receiver's URL as it is stored, or why it cannot be one.
    async fn receiver_url(&self, url: &str) -> Result<String, String> {
        let url = url.trim();
        if url.len() > 2048 {
            return Err("is longer than 2048 bytes".into());
        }
        match self.outbound.check(url).await {
            Ok(parsed) => Ok(parsed.to_string()),
            Err(refusal) => Err(refusal.to_string()),
        }
    }

    pub async fn list(&self, user: i64) -> Result<Vec<Webhook>> {
        let rows = webhooks::Entity::find()
            .filter(webhooks::Column::UserId.eq(user))
            .order_by_asc(webhooks::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Webhook::from).collect())
    }

    /// Deleting a subscription drops its delivery log and stops its pending deliveries.
    pub async fn delete(&self, user: i64, id: i64) -> Result<()> {
        let deleted = webhooks::Entity::delete_many()
            .filter(webhooks::Column::Id.eq(id))
            .filter(webhooks::Column::UserId.eq(user))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(Error::NotFound("webhook"));
        }
        Ok(())
    }

    /// The subscription's delivery attempts, newest first.
    pub async fn deliveries(
        &self,
        user: i64,
        id: i64,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<webhook_deliveries::Model>> {
        let owned = webhooks::Entity::find_by_id(id)
            .filter(webhooks::Column::UserId.eq(user))
            .count(&self.db)
            .await?;
        if owned == 0 {
            return Err(Error::NotFound("webhook"));
        }
        Ok(webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::WebhookId.eq(id))
            .order_by_desc(webhook_deliveries::Column::Id)
            .limit(limit.min(MAX_PAGE))
            .offset(offset)
            .all(&self.db)
            .await?)
    }
}

fn parse_events(events: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let events = events.ok_or("is required")?;
    let mut names: Vec<String> = Vec::new();
    for name in events {
        let event = Event::parse(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = Event::ALL.iter().map(|event| event.name()).collect();
            format!("unknown event '{name}' (known: {})", known.join(", "))
        })?;
        if !names.iter().any(|known| known == event.name()) {
            names.push(event.name().to_owned());
        }
    }
    if names.is_empty() {
        return Err("must name at least one event".into());
    }
    Ok(names)
}

/// 32 random bytes, hex, with a prefix that says what it is when it turns up in a log or a diff.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The article as an event shows it.
pub(crate) fn article_data(
    article: &crate::db::entities::articles::Model,
    tags: &[String],
) -> Value {
    json!({
        "article": {
            "slug": article.slug,
            "title": article.title,
            "description": article.description,
            "tagList": tags,
            "favoritesCount": article.favorites_count,
            "createdAt": timestamp(article.created_at),
            "updatedAt": timestamp(article.updated_at),
        }
    })
}

/// Enqueues, on `txn` (the change's transaction), one delivery of `event` to each of `owner`'s
/// enabled subscriptions to it. The event names the user whose action it was (`actor`) and
/// carries `data`; neither is read unless somebody subscribed.
pub(crate) async fn emit(
    txn: &impl ConnectionTrait,
    (owner, actor): (i64, i64),
    event: Event,
    data: impl FnOnce() -> Value,
) -> Result<(), DbErr> {
    let subscriptions: Vec<(i64, String)> = webhooks::Entity::find()
        .select_only()
        .column(webhooks::Column::Id)
        .column(webhooks::Column::Events)
        .filter(webhooks::Column::UserId.eq(owner))
        .filter(webhooks::Column::Enabled.eq(true))
        .into_tuple()
        .all(txn)
        .await?;
    let subscribed: Vec<i64> = subscriptions
        .into_iter()
        .filter(|(_, events)| events.split(',').any(|name| name == event.name()))
        .map(|(id, _)| id)
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let actor: Option<String> = users::Entity::find_by_id(actor)
        .select_only()
        .column(users::Column::Username)
        .into_tuple()
        .one(txn)
        .await?;
    let (data, created_at) = (data(), timestamp(now_ms()));
    for webhook in subscribed {
        let delivery = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "id": delivery,
            "event": event.name(),
            "createdAt": created_at,
            "actor": { "username": actor },
            "data": data,
        });
        let payload = DeliverWebhook {
            webhook,
            delivery,
            event: event.name().to_owned(),
            body: body.to_string(),
        };
        jobs::enqueue(txn, payload.job()).await?;
    }
    Ok(())
}
