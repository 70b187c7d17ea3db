//! `quire jobs`: the queue's admin commands.

use clap::Subcommand;
use sea_orm::DatabaseConnection;

use super::JobState;
use super::admin::{self, Which};

#[derive(Subcommand)]
pub enum JobsCommand {
    /// How many jobs there are, per kind and state.
    Stats,
    /// Jobs, oldest first.
    List {
        /// Only jobs in this state: queued, running or dead.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Queue a dead job again, due now with its attempts afresh (or every dead one: --dead).
    Retry {
        #[arg(required_unless_present = "dead", conflicts_with = "dead")]
        id: Option<i64>,
        #[arg(long)]
        dead: bool,
    },
    /// Delete dead jobs (only those dead for longer than --older-than-days, when given).
    Purge {
        #[arg(long)]
        older_than_days: Option<u32>,
    },
}

pub async fn run(db: &DatabaseConnection, command: JobsCommand) -> anyhow::Result<()> {
    match command {
        JobsCommand::Stats => {
            println!("{:<24} {:<8} {:>10}", "KIND", "STATE", "JOBS");
            for count in admin::stats(db).await? {
                println!("{:<24} {:<8} {:>10}", count.kind, count.state, count.jobs);
            }
        }
        JobsCommand::List { state, limit } => {
            if let Some(state) = &state
                && JobState::from_name(state).is_none()
            {
                anyhow::bail!("--state must be queued, running or dead");
            }
            println!(
                "{:>10} {:<16} {:<8} {:>8} {:>9} {:<24} LAST ERROR",
                "ID", "KIND", "STATE", "PRIORITY", "ATTEMPTS", "RUN AT"
            );
            for job in admin::list(db, state.as_deref(), limit).await? {
                let run_at = chrono::DateTime::from_timestamp_millis(job.run_at)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default();
                println!(
                    "{:>10} {:<16} {:<8} {:>8} {:>9} {:<24} {}",
                    job.id,
                    job.kind,
                    job.state,
                    job.priority,
                    format!("{}/{}", job.attempts, job.max_attempts),
                    run_at,
                    job.last_error.unwrap_or_default().replace('\n', " ")
                );
            }
        }
        JobsCommand::Retry { id, dead } => {
            let which = match (id, dead) {
                (Some(id), false) => Which::One(id),
                _ => Which::Dead,
            };
            let queued = admin::retry(db, which).await?;
            println!("{queued} job(s) queued again");
        }
        JobsCommand::Purge { older_than_days } => {
            let age = older_than_days.map(|days| i64::from(days) * 86_400_000);
            let purged = admin::purge(db, age).await?;
            println!("{purged} dead job(s) deleted");
        }
    }
    Ok(())
}
