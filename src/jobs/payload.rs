//! One serde type per kind of job: what a producer enqueues and what the worker decodes are
//! the same type, so neither can drift from the other. A stored payload that does not decode
//! into its kind's type fails the job at once, saying why (no retry could fix it).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Kind, NewJob};
use crate::mail::SealedMail;

/// The payload of one kind of job.
pub trait JobPayload: Serialize + DeserializeOwned {
    const KIND: Kind;

    /// This payload as a job to enqueue (now, at priority 0).
    fn job(&self) -> NewJob {
        NewJob {
            kind: Self::KIND,
            payload: serde_json::to_string(self).expect("a job's payload serialises"),
            priority: 0,
            run_at: None,
        }
    }
}

/// Decodes a stored payload of `P`'s kind.
pub(super) fn decode<P: JobPayload>(payload: &str) -> Result<P, Failure> {
    serde_json::from_str(payload)
        .map_err(|err| Failure::Permanent(format!("bad {} payload: {err}", P::KIND.name())))
}

/// Why an attempt at a job failed.
#[derive(Debug)]
pub enum Failure {
    /// Worth another attempt, after the kind's backoff (dead once out of attempts).
    Transient(String),
    /// No attempt can succeed (a payload that does not decode): dead at once.
    Permanent(String),
}

impl Failure {
    pub fn reason(&self) -> &str {
        match self {
            Failure::Transient(reason) | Failure::Permanent(reason) => reason,
        }
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Transient(reason)
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        Failure::Transient(err.to_string())
    }
}

/// Does nothing, or sleeps and fails its first attempts as asked: for the benchmark's queue
/// figure and for checking a deployment's workers end to end.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Noop {
    /// A label to find the job by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleep_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_attempts: Option<i64>,
}

impl JobPayload for Noop {
    const KIND: Kind = Kind::Noop;
}

/// Deletes what has expired.
#[derive(Debug, Serialize, Deserialize)]
pub struct Cleanup {}

impl JobPayload for Cleanup {
    const KIND: Kind = Kind::Cleanup;
}

/// Keeps the view partitions of the coming months and drops those past retention.
#[derive(Debug, Serialize, Deserialize)]
pub struct ViewsUpkeep {}

impl JobPayload for ViewsUpkeep {
    const KIND: Kind = Kind::ViewsUpkeep;
}

/// Generates report `report`.
#[derive(Debug, Serialize, Deserialize)]
pub struct GenerateReport {
    pub report: i64,
}

impl JobPayload for GenerateReport {
    const KIND: Kind = Kind::Report;
}

/// Delivers one event to one subscription: `body` is the JSON posted, signed as it is.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub webhook: i64,
    pub delivery: String,
    pub event: String,
    pub body: String,
}

impl JobPayload for DeliverWebhook {
    const KIND: Kind = Kind::Webhook;
}

impl JobPayload for SealedMail {
    const KIND: Kind = Kind::Mail;
}
