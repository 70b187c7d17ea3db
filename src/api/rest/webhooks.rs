//! `/api/webhooks`: subscribe, list, unsubscribe, and the delivery log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::articles::page;
use super::unwrap_envelope;
use crate::api::timestamp;
use crate::db::entities::webhook_deliveries;
use crate::domain::Domain;
use crate::domain::webhooks::Webhook;
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::error::ErrorBody;
use crate::http::extract::{JsonBody, PathParams, QueryParams};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WebhookEnvelope {
    webhook: Option<WebhookBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WebhookBody {
    url: Option<String>,
    events: Option<Vec<String>>,
}

fn webhook_json(webhook: Webhook) -> Value {
    let mut shown = json!({
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.events,
        "enabled": webhook.enabled,
        "disabledReason": webhook.disabled_reason,
        "createdAt": timestamp(webhook.created_at),
    });
    if let Some(secret) = webhook.secret {
        shown["secret"] = json!(secret);
    }
    shown
}

fn delivery_json(attempt: webhook_deliveries::Model) -> Value {
    json!({
        "id": attempt.id,
        "delivery": attempt.delivery,
        "event": attempt.event,
        "attempt": attempt.attempt,
        "at": timestamp(attempt.at),
        "statusCode": attempt.status_code,
        "latencyMs": attempt.latency_ms,
        "error": attempt.error,
    })
}

#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "Webhooks",
    operation_id = "CreateWebhook",
    summary = "Subscribe a URL to events",
    request_body = WebhookEnvelope,
    responses(
        (status = 201, description = "The subscription, with its signing secret (shown once)", body = serde_json::Value),
        (status = 401, description = "Missing, malformed or expired credentials", body = ErrorBody),
        (status = 422, description = "Invalid input: each failing field with its messages", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn create(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<WebhookEnvelope>,
) -> Result<(StatusCode, Json<Value>)> {
    let body = unwrap_envelope("webhook", body.webhook)?;
    let webhook = domain.create_webhook(user, body.url, body.events).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "webhook": webhook_json(webhook) })),
    ))
}

#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "Webhooks",
    operation_id = "GetWebhooks",
    summary = "The caller's subscriptions",
    responses(
        (status = 200, description = "`webhooks` and `webhooksCount`", body = serde_json::Value),
        (status = 401, description = "Missing, malformed or expired credentials", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn list(State(domain): State<Domain>, AuthUser(user): AuthUser) -> Result<Json<Value>> {
    let webhooks: Vec<Value> = domain
        .webhooks(user)
        .await?
        .into_iter()
        .map(webhook_json)
        .collect();
    Ok(Json(
        json!({ "webhooksCount": webhooks.len(), "webhooks": webhooks }),
    ))
}

#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    tag = "Webhooks",
    operation_id = "DeleteWebhook",
    summary = "Unsubscribe",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, malformed or expired credentials", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn remove(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
) -> Result<StatusCode> {
    domain.delete_webhook(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/webhooks/{id}/deliveries",
    tag = "Webhooks",
    operation_id = "GetWebhookDeliveries",
    summary = "Recent delivery attempts",
    params(
        ("id" = i64, Path, description = "The webhook's id"),
        ("limit" = Option<u64>, Query, description = "Attempts to return")
    ),
    responses(
        (status = 200, description = "`deliveries`, newest first", body = serde_json::Value),
        (status = 401, description = "Missing, malformed or expired credentials", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 422, description = "Invalid input: each failing field with its messages", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn deliveries(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
    query: QueryParams,
) -> Result<Json<Value>> {
    let page = page(&query)?;
    let deliveries: Vec<Value> = domain
        .webhook_deliveries(user, id, page.limit, page.offset)
        .await?
        .into_iter()
        .map(delivery_json)
        .collect();
    Ok(Json(json!({ "deliveries": deliveries })))
}
