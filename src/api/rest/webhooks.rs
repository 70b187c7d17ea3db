//! `/api/webhooks`: subscribe, list, unsubscribe, and the delivery log.

use super::refusals::{Invalid, Missing, OtherRefusals, Unauthenticated};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::articles::page;
use super::unwrap_envelope;
use crate::api::timestamp;
use crate::db::entities::webhook_deliveries;
use crate::domain::webhooks::{Webhook, Webhooks};
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::extract::{JsonBody, PathParams, QueryParams};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WebhookEnvelope {
    webhook: Option<WebhookBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WebhookBody {
    url: Option<String>,
    events: Option<Vec<String>>,
    /// PATCH only: `true` takes a disabled subscription back into use, `false` pauses it.
    enabled: Option<bool>,
}

/// `{"webhook": ...}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookResponse {
    webhook: WebhookJson,
}

/// `{"webhooks": [...], "webhooksCount": n}`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhooksResponse {
    webhooks: Vec<WebhookJson>,
    webhooks_count: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookJson {
    id: i64,
    url: String,
    events: Vec<String>,
    enabled: bool,
    /// Why deliveries stopped (a receiver answering 410, too many failures), if they did.
    disabled_reason: Option<String>,
    created_at: String,
    /// The signing secret: in the answer that creates the subscription only.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// `{"deliveries": [...]}`, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveriesResponse {
    deliveries: Vec<DeliveryJson>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryJson {
    id: i64,
    /// The delivery's id, the same on every attempt (the receiver's de-duplication key).
    delivery: String,
    event: String,
    attempt: i32,
    at: String,
    status_code: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
}

fn webhook_json(webhook: Webhook) -> WebhookJson {
    WebhookJson {
        id: webhook.id,
        url: webhook.url,
        events: webhook.events,
        enabled: webhook.enabled,
        disabled_reason: webhook.disabled_reason,
        created_at: timestamp(webhook.created_at),
        secret: webhook.secret,
    }
}

fn delivery_json(attempt: webhook_deliveries::Model) -> DeliveryJson {
    DeliveryJson {
        id: attempt.id,
        delivery: attempt.delivery,
        event: attempt.event,
        attempt: attempt.attempt,
        at: timestamp(attempt.at),
        status_code: attempt.status_code,
        latency_ms: attempt.latency_ms,
        error: attempt.error,
    }
}

#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "Webhooks",
    operation_id = "CreateWebhook",
    summary = "Subscribe a URL to events",
    request_body = WebhookEnvelope,
    responses(
        (status = 201, description = "The subscription, with its signing secret (shown once)", body = WebhookResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn create(
    State(webhooks): State<Webhooks>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<WebhookEnvelope>,
) -> Result<(StatusCode, Json<WebhookResponse>)> {
    let body = unwrap_envelope("webhook", body.webhook)?;
    let webhook = webhooks.create(user, body.url, body.events).await?;
    let webhook = webhook_json(webhook);
    Ok((StatusCode::CREATED, Json(WebhookResponse { webhook })))
}

#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "Webhooks",
    operation_id = "GetWebhooks",
    summary = "The caller's subscriptions",
    responses(
        (status = 200, description = "The caller's subscriptions", body = WebhooksResponse),
        Unauthenticated,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn list(
    State(webhooks): State<Webhooks>,
    AuthUser(user): AuthUser,
) -> Result<Json<WebhooksResponse>> {
    let listed: Vec<WebhookJson> = webhooks
        .list(user)
        .await?
        .into_iter()
        .map(webhook_json)
        .collect();
    Ok(Json(WebhooksResponse {
        webhooks_count: listed.len(),
        webhooks: listed,
    }))
}

#[utoipa::path(
    patch,
    path = "/api/webhooks/{id}",
    tag = "Webhooks",
    operation_id = "UpdateWebhook",
    summary = "Change a subscription: its URL, its events, or whether it is enabled",
    params(("id" = i64, Path, description = "The webhook's id")),
    request_body = WebhookEnvelope,
    responses(
        (status = 200, description = "The subscription as it now is (without its secret)", body = WebhookResponse),
        Unauthenticated,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn update(
    State(webhooks): State<Webhooks>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
    JsonBody(body): JsonBody<WebhookEnvelope>,
) -> Result<Json<WebhookResponse>> {
    let body = unwrap_envelope("webhook", body.webhook)?;
    let change = crate::domain::webhooks::WebhookChange {
        url: body.url,
        events: body.events,
        enabled: body.enabled,
    };
    let webhook = webhook_json(webhooks.update(user, id, change).await?);
    Ok(Json(WebhookResponse { webhook }))
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
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn remove(
    State(webhooks): State<Webhooks>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
) -> Result<StatusCode> {
    webhooks.delete(user, id).await?;
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
        (status = 200, description = "Delivery attempts, newest first", body = DeliveriesResponse),
        Unauthenticated,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn deliveries(
    State(webhooks): State<Webhooks>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
    query: QueryParams,
) -> Result<Json<DeliveriesResponse>> {
    let page = page(&query)?;
    let deliveries: Vec<DeliveryJson> = webhooks
        .deliveries(user, id, page.limit, page.offset)
        .await?
        .into_iter()
        .map(delivery_json)
        .collect();
    Ok(Json(DeliveriesResponse { deliveries }))
}
