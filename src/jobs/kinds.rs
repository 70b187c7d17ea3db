//! The kinds of job, their retry policies and what running one does.

use std::time::Duration;

use rand::Rng;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::payload::{Cleanup, DeliverWebhook, Failure, GenerateReport, Noop, ViewsUpkeep, decode};
use super::{Context, report, webhook};
use crate::db::entities::{
    email_tokens, job_ticks, jobs, oidc_attempts_spent, refresh_tokens, reports, webhook_deliveries,
};
use crate::db::{now_ms, partitions};
use crate::mail::SealedMail;

/// A kind of job. Stored by [`Kind::name`]; a row of a name this build does not know is
/// marked dead (a newer instance enqueued it during a rolling deploy: retry it later).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Kind {
    /// Does nothing (or, as its payload asks, sleeps and fails its first attempts): for the
    /// benchmark's queue figure and for checking a deployment's workers end to end.
    Noop,
    /// Deletes what has expired: refresh tokens, reports, the delivery log's old attempts and
    /// old schedule ticks.
    Cleanup,
    /// Delivers one webhook event (see `webhook`).
    Webhook,
    /// Generates one report (see `report`).
    Report,
    /// Creates the coming months' view partitions and drops those past retention.
    ViewsUpkeep,
    /// Sends one mail (its payload is sealed by `mail::Mailer::seal`).
    Mail,
}

/// How a kind of job is retried after a failure.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub max_attempts: i32,
    /// The delay after the first failure; it doubles with each one after.
    pub base: Duration,
    pub cap: Duration,
}

impl Retry {
    /// The delay before the attempt after `attempts` failed ones: exponential, capped, with
    /// ±50% jitter so that jobs failing together do not retry together.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        let delay = self.base.saturating_mul(1 << doublings).min(self.cap);
        delay.mul_f64(rand::rng().random_range(0.5..1.5))
    }
}

impl Kind {
    /// The kind's name, as stored in `jobs.kind`: its variant's, in kebab case.
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        name.parse().ok()
    }

    pub fn retry(self) -> Retry {
        match self {
            Kind::Noop => Retry {
                max_attempts: 5,
                base: Duration::from_millis(100),
                cap: Duration::from_secs(5),
            },
            Kind::Cleanup | Kind::ViewsUpkeep => Retry {
                max_attempts: 3,
                base: Duration::from_secs(30),
                cap: Duration::from_secs(600),
            },
            // 2 s doubling to 4 h, 19 attempts: the last about 24.5 h after the first.
            Kind::Webhook => Retry {
                max_attempts: 19,
                base: Duration::from_secs(2),
                cap: Duration::from_secs(4 * 3600),
            },
            Kind::Report => Retry {
                max_attempts: 3,
                base: Duration::from_secs(5),
                cap: Duration::from_secs(60),
            },
            // 5 s doubling to 1 h, 10 attempts: about 3.5 h of trying before it is dead. A
            // link in a mail expires after 1 to 24 hours: later than that it is no use.
            Kind::Mail => Retry {
                max_attempts: 10,
                base: Duration::from_secs(5),
                cap: Duration::from_secs(3600),
            },
        }
    }
}

/// Schedule ticks are kept this long (a tick only needs to outlive its instances' clocks' skew).
const TICKS_KEPT_MS: i64 = 7 * 86_400_000;

/// Delivery attempts stay in the log this long.
const DELIVERIES_KEPT_MS: i64 = 30 * 86_400_000;

/// Runs `job` (its `attempts` counting this one), its payload decoded into its kind's type;
/// the failure's reason is kept in `last_error`.
pub(super) async fn run(context: &Context, kind: Kind, job: &jobs::Model) -> Result<(), Failure> {
    let (attempt, max_attempts, payload) = (job.attempts, job.max_attempts, &job.payload);
    match kind {
        Kind::Cleanup => {
            decode::<Cleanup>(payload)?;
            Ok(cleanup(&context.db).await?)
        }
        Kind::Webhook => {
            let delivery = decode::<DeliverWebhook>(payload)?;
            Ok(webhook::deliver(context, &delivery, attempt, max_attempts).await?)
        }
        Kind::Report => {
            let report = decode::<GenerateReport>(payload)?;
            Ok(report::generate(context, &report, attempt, max_attempts).await?)
        }
        Kind::Mail => Ok(context
            .mailer
            .deliver(&decode::<SealedMail>(payload)?)
            .await?),
        Kind::ViewsUpkeep => {
            decode::<ViewsUpkeep>(payload)?;
            let done =
                partitions::upkeep(&context.db, now_ms(), context.views_retention_months).await?;
            if done != partitions::Upkeep::default() {
                tracing::info!(created = ?done.created, dropped = ?done.dropped, deleted_rows = done.deleted_rows, "view partitions kept up");
            }
            Ok(())
        }
        Kind::Noop => {
            let asked = decode::<Noop>(payload)?;
            if let Some(ms) = asked.sleep_ms {
                tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
            }
            match asked.fail_attempts {
                Some(failing) if i64::from(attempt) <= failing => Err(Failure::Transient(format!(
                    "asked to fail attempt {attempt}"
                ))),
                _ => Ok(()),
            }
        }
    }
}

/// Deletes expired refresh tokens, reports, mailed tokens and spent sign-in attempts, old
/// delivery attempts and old schedule ticks.
async fn cleanup(db: &DatabaseConnection) -> Result<(), DbErr> {
    let now = now_ms();
    refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    // Their chunks go with them (the foreign key cascades).
    reports::Entity::delete_many()
        .filter(reports::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    webhook_deliveries::Entity::delete_many()
        .filter(webhook_deliveries::Column::At.lt(now - DELIVERIES_KEPT_MS))
        .exec(db)
        .await?;
    job_ticks::Entity::delete_many()
        .filter(job_ticks::Column::Tick.lt(now - TICKS_KEPT_MS))
        .exec(db)
        .await?;
    email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    oidc_attempts_spent::Entity::delete_many()
        .filter(oidc_attempts_spent::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok(())
}
