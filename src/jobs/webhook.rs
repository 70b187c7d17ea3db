//! Delivering one webhook event: a signed POST to the subscription's URL, checked against the
//! SSRF guard at delivery time (DNS can change), every attempt kept in the delivery log. A
//! delivery out of attempts (about a day of retries) disables its subscription, saying why; a
//! receiver answering 410 Gone unsubscribes at once.

use std::time::Instant;

use hmac::{KeyInit, Mac};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::Sha256;

use super::{Context, DeliverWebhook};
use crate::db::entities::{webhook_deliveries, webhooks};
use crate::db::now_ms;

/// The most of a receiver's answer that is read (and then dropped).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The longest error message kept per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body" under the secret>`.
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// One attempt; an error makes the queue retry it (or, on the last attempt, disables the
/// subscription).
pub(super) async fn deliver(
    context: &Context,
    payload: &DeliverWebhook,
    attempt: i32,
    max_attempts: i32,
) -> Result<(), String> {
    let db = &context.db;
    let subscription = webhooks::Entity::find_by_id(payload.webhook)
        .one(db)
        .await
        .map_err(|e| e.to_string())?;
    // Deleted or disabled since: nothing to send.
    let Some(subscription) = subscription.filter(|row| row.enabled) else {
        return Ok(());
    };
    let started = Instant::now();
    let outcome = post(context, &subscription, payload).await;
    let latency_ms = started.elapsed().as_millis() as i64;
    let (status_code, error) = match &outcome {
        Ok(status) if (200..300).contains(status) => (Some(*status), None),
        Ok(status) => (
            Some(*status),
            Some(format!("the receiver answered {status}")),
        ),
        Err(error) => (None, Some(error.clone())),
    };
    let counted = if error.is_none() {
        "delivered"
    } else {
        "failed"
    };
    metrics::counter!("quire_webhook_deliveries_total", "outcome" => counted).increment(1);
    webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
        webhook_id: Set(subscription.id),
        delivery: Set(payload.delivery.clone()),
        event: Set(payload.event.clone()),
        attempt: Set(attempt),
        at: Set(now_ms()),
        status_code: Set(status_code.map(i32::from)),
        latency_ms: Set(latency_ms),
        error: Set(error.clone()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| e.to_string())?;
    let Some(error) = error else {
        return Ok(());
    };
    if status_code == Some(410) {
        disable(db, subscription.id, "the receiver answered 410 Gone").await?;
        return Ok(());
    }
    if attempt >= max_attempts {
        let reason = format!(
            "delivery {} failed {attempt} times over about a day; last: {error}",
            payload.delivery
        );
        disable(db, subscription.id, &reason).await?;
    }
    Err(error)
}

/// Sends the event; the receiver's status, or why there was none.
async fn post(
    context: &Context,
    subscription: &webhooks::Model,
    payload: &DeliverWebhook,
) -> Result<u16, String> {
    let url = context
        .outbound
        .check(&subscription.url)
        .await
        .map_err(|refusal| format!("refused: {refusal}"))?;
    let signed = signature(
        &subscription.secret,
        now_ms().div_euclid(1000),
        &payload.body,
    );
    let mut response = context
        .outbound
        .client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Quire-Event", &payload.event)
        .header("Quire-Delivery", &payload.delivery)
        .header("Quire-Signature", signed)
        .body(payload.body.clone())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    // Read a bounded amount so that the connection can be reused; the rest is dropped.
    let mut read = 0;
    while read < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => break,
        }
    }
    Ok(status)
}

/// The error's chain, without the URL (which the log already shows).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(MAX_ERROR_CHARS).collect()
}

async fn disable(db: &DatabaseConnection, webhook: i64, reason: &str) -> Result<(), String> {
    tracing::warn!(webhook, reason, "webhook subscription disabled");
    webhooks::Entity::update_many()
        .col_expr(webhooks::Column::Enabled, false.into())
        .col_expr(
            webhooks::Column::DisabledReason,
            Some(reason.to_owned()).into(),
        )
        .filter(webhooks::Column::Id.eq(webhook))
        .exec(db)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}
