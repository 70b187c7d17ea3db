//! `/api/reports`: ask for a report (202 and its `Location`), follow it, download it.

use super::refusals::{Invalid, Missing, OtherRefusals, Unauthenticated};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::unwrap_envelope;
use crate::api::timestamp;
use crate::domain::reports::{Report, ReportRequest, Reports};
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::extract::{JsonBody, PathParams};
use crate::jobs::report::DONE;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReportEnvelope {
    report: Option<ReportBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReportBody {
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

fn location(report: &Report) -> String {
    format!("/api/reports/{}", report.id)
}

/// `{"report": ...}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportResponse {
    report: ReportJson,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportJson {
    id: i64,
    kind: String,
    /// The first day covered, `YYYY-MM-DD`.
    from: String,
    /// The last day covered.
    to: String,
    /// `csv` or `json`.
    format: String,
    /// `pending`, `running`, `done` or `failed`.
    status: String,
    error: Option<String>,
    /// The file's size once done.
    bytes: Option<i64>,
    created_at: String,
    finished_at: Option<String>,
    expires_at: String,
    /// Where to fetch the file once done.
    download: Option<String>,
}

fn report_json(report: &Report) -> Json<ReportResponse> {
    let done = report.state == DONE;
    Json(ReportResponse {
        report: ReportJson {
            id: report.id,
            kind: report.kind.clone(),
            from: report.from_day.clone(),
            to: report.to_day.clone(),
            format: report.format.clone(),
            status: report.state.clone(),
            error: report.error.clone(),
            bytes: done.then_some(report.bytes),
            created_at: timestamp(report.created_at),
            finished_at: report.finished_at.map(timestamp),
            expires_at: timestamp(report.expires_at),
            download: done.then(|| format!("{}/download", location(report))),
        },
    })
}

#[utoipa::path(
    post,
    path = "/api/reports",
    tag = "Reports",
    operation_id = "CreateReport",
    summary = "Ask for a report (generated in the background)",
    request_body = ReportEnvelope,
    responses(
        (status = 202, description = "The report, pending", body = ReportResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn create(
    State(reports): State<Reports>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ReportEnvelope>,
) -> Result<Response> {
    let body = unwrap_envelope("report", body.report)?;
    let request = ReportRequest {
        kind: body.kind,
        from: body.from,
        to: body.to,
        format: body.format,
    };
    let report = reports.request(user, request).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location(&report))],
        report_json(&report),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/reports/{id}",
    tag = "Reports",
    operation_id = "GetReport",
    summary = "A report's state",
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report", body = ReportResponse),
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn get(
    State(reports): State<Reports>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
) -> Result<Json<ReportResponse>> {
    Ok(report_json(&reports.get(user, id).await?))
}

#[utoipa::path(
    get,
    path = "/api/reports/{id}/download",
    tag = "Reports",
    operation_id = "DownloadReport",
    summary = "Download a finished report (CSV or JSON)",
    params(("id" = i64, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The report file: CSV (text/csv) or JSON, as asked for", body = String, content_type = "text/csv"),
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn download(
    State(reports): State<Reports>,
    AuthUser(user): AuthUser,
    PathParams(id): PathParams<i64>,
) -> Result<Response> {
    let (report, chunks) = reports.file(user, id).await?;
    let content_type = if report.format == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    // Every part of the name is ours (kind, dates, format), so it needs no quoting rules.
    let filename = format!(
        "{}-{}-to-{}.{}",
        report.kind, report.from_day, report.to_day, report.format
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| crate::error::Error::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}
