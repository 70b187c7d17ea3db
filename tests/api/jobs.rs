//! The job queue: same-transaction enqueue, running, retries and the dead state, a worker
//! process killed mid-job (its job runs again once its lease ran out), SIGTERM (the running job
//! finishes, or is handed back when it cannot within the grace period), periodic jobs enqueued
//! once per tick by racing instances, and the cleanup job.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quire::db::entities::job_ticks::Entity as TickRows;
use quire::db::entities::jobs::{Entity as JobRows, Model as JobRow};
use quire::jobs::schedule::{self, Schedule};
use quire::jobs::{
    self, Cleanup, Context, JobPayload, JobState, Kind, NewJob, Noop, Worker, WorkerOptions, admin,
};
use quire::outbound::Outbound;
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use tokio::sync::watch;

use crate::cli::terminate;
use crate::support::{TestApp, unique};

pub(crate) async fn queue(app: &TestApp) -> DatabaseConnection {
    Database::connect(&app.database_url)
        .await
        .expect("database")
}

/// The row of job `id` (`None` once it succeeded and was deleted).
async fn job(db: &DatabaseConnection, id: i64) -> Option<JobRow> {
    JobRows::find_by_id(id).one(db).await.unwrap()
}

/// Waits until `done` holds for job `id`, for at most `limit`.
async fn wait_for(
    db: &DatabaseConnection,
    id: i64,
    limit: Duration,
    done: impl Fn(&Option<JobRow>) -> bool,
) -> Option<JobRow> {
    let started = Instant::now();
    loop {
        let row = job(db, id).await;
        if done(&row) {
            return row;
        }
        assert!(started.elapsed() < limit, "job {id} is still {row:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no job of `kind` is queued or running: what a test asserts after that is final.
pub(crate) async fn drained(db: &DatabaseConnection, kind: &str) {
    crate::support::wait_for(&format!("the {kind} jobs to finish"), async || {
        let counts = quire::jobs::admin::stats(db).await.unwrap();
        !counts.iter().any(|count| {
            count.kind == kind && ["queued", "running"].contains(&count.state.as_str())
        })
    })
    .await;
}

fn options(lease: Duration) -> WorkerOptions {
    WorkerOptions {
        concurrency: 4,
        lease,
        poll: Duration::from_millis(50),
        grace: Duration::from_secs(5),
    }
}

/// What the tests' workers run jobs with: webhooks may reach this machine's receivers.
pub(crate) fn context(db: &DatabaseConnection, allow_hosts: &[&str]) -> Context {
    Context {
        db: db.clone(),
        outbound: Outbound::new(allow_hosts.iter().map(|h| h.to_string()).collect()).unwrap(),
        views_retention_months: 12,
        reports_kept: Duration::from_secs(3600),
        mailer: crate::mailbox::mailer(),
    }
}

/// A worker in this process until the returned sender says stop.
pub(crate) fn start_worker(
    db: &DatabaseConnection,
    lease: Duration,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    start_worker_with(context(db, &["127.0.0.1"]), lease)
}

pub(crate) fn start_worker_with(
    context: Context,
    lease: Duration,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    let worker = Worker::new(context, options(lease));
    (stop, tokio::spawn(worker.run(stopped)))
}

fn noop(payload: Noop) -> NewJob {
    payload.job()
}

fn tick_mark(tick: i64) -> Noop {
    Noop {
        mark: Some(tick.to_string()),
        ..Noop::default()
    }
}

#[tokio::test]
async fn a_rolled_back_change_enqueues_nothing_and_a_committed_one_runs() {
    let app = TestApp::spawn_own(&[]).await;
    let db = queue(&app).await;
    let txn = db.begin().await.unwrap();
    let rolled_back = jobs::enqueue(
        &txn,
        noop(Noop {
            mark: Some(unique("r")),
            ..Noop::default()
        }),
    )
    .await
    .unwrap();
    txn.rollback().await.unwrap();
    assert!(job(&db, rolled_back).await.is_none());

    let txn = db.begin().await.unwrap();
    let committed = jobs::enqueue(&txn, noop(Noop::default())).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        job(&db, committed).await.unwrap().state,
        JobState::Queued.as_str()
    );
    let (stop, worker) = start_worker(&db, Duration::from_secs(30));
    wait_for(&db, committed, Duration::from_secs(20), Option::is_none).await;
    stop.send(true).unwrap();
    worker.await.unwrap();
}

/// A stored payload that is not its kind's type fails the job at once, saying why: no retry
/// could make it run (before, it quietly ran as `null`).
#[tokio::test]
async fn a_payload_that_does_not_decode_kills_its_job_at_once_saying_why() {
    use quire::db::entities::jobs::ActiveModel;
    use sea_orm::ActiveValue::Set;

    let app = TestApp::spawn_own(&[]).await;
    let db = queue(&app).await;
    let now = chrono::Utc::now().timestamp_millis();
    let mut ids = Vec::new();
    for (kind, payload) in [("report", r#"{"report": "seven"}"#), ("noop", "not json")] {
        let row = ActiveModel {
            kind: Set(kind.to_owned()),
            payload: Set(payload.to_owned()),
            state: Set(JobState::Queued.as_str().to_owned()),
            priority: Set(0),
            run_at: Set(now),
            attempts: Set(0),
            max_attempts: Set(5),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        ids.push((
            kind,
            JobRows::insert(row).exec(&db).await.unwrap().last_insert_id,
        ));
    }
    let (stop, worker) = start_worker(&db, Duration::from_secs(30));
    for (kind, id) in ids {
        let dead = wait_for(&db, id, Duration::from_secs(20), |row| {
            row.as_ref()
                .is_some_and(|r| r.state == JobState::Dead.as_str())
        })
        .await
        .unwrap();
        assert_eq!(
            dead.attempts, 1,
            "{kind}: retried a payload that cannot decode"
        );
        let error = dead.last_error.unwrap();
        assert!(error.contains(&format!("bad {kind} payload")), "{error}");
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
}

#[tokio::test]
async fn failures_retry_with_backoff_then_die_and_can_be_retried() {
    let app = TestApp::spawn_own(&[]).await;
    let db = queue(&app).await;
    // Fails twice, then succeeds.
    let recovering = jobs::enqueue(
        &db,
        noop(Noop {
            fail_attempts: Some(2),
            ..Noop::default()
        }),
    )
    .await
    .unwrap();
    // Fails every attempt it is given.
    let doomed = jobs::enqueue(
        &db,
        noop(Noop {
            fail_attempts: Some(1000),
            ..Noop::default()
        }),
    )
    .await
    .unwrap();
    let (stop, worker) = start_worker(&db, Duration::from_secs(30));
    wait_for(&db, recovering, Duration::from_secs(30), Option::is_none).await;
    let dead = wait_for(&db, doomed, Duration::from_secs(60), |row| {
        row.as_ref()
            .is_some_and(|r| r.state == JobState::Dead.as_str())
    })
    .await
    .unwrap();
    assert_eq!(dead.attempts, Kind::Noop.retry().max_attempts);
    // The attempts were spread out by a backoff that doubles (at least half of 0.1, 0.2, 0.4
    // and 0.8 s with jitter), not run back to back.
    let spread = dead.updated_at - dead.created_at;
    assert!(spread >= 750, "five attempts within {spread} ms");
    assert!(dead.last_error.unwrap().contains("fail attempt"));
    stop.send(true).unwrap();
    worker.await.unwrap();

    let listed = admin::list(&db, Some(JobState::Dead.as_str()), 10_000)
        .await
        .unwrap();
    assert!(listed.iter().any(|j| j.id == doomed));
    assert!(
        admin::stats(&db)
            .await
            .unwrap()
            .iter()
            .any(|c| c.kind == "noop" && c.state == JobState::Dead.as_str())
    );
    assert_eq!(
        admin::retry(&db, admin::Which::One(doomed)).await.unwrap(),
        1
    );
    let again = job(&db, doomed).await.unwrap();
    assert_eq!(
        (again.state.as_str(), again.attempts),
        (JobState::Queued.as_str(), 0)
    );
}

/// A `quire worker` process, killed if the test ends without stopping it.
pub(crate) struct WorkerProcess(pub Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn worker_process(
    app: &TestApp,
    lease_seconds: &str,
    grace_seconds: &str,
) -> WorkerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quire"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("QUIRE_")) {
        command.env_remove(key);
    }
    command
        .arg("worker")
        .env("QUIRE_DATABASE_URL", &app.database_url)
        .env("QUIRE_JWT_SECRET", crate::support::SECRET)
        .env("QUIRE_LOG", "warn")
        .env("QUIRE_WORKER_LEASE_SECONDS", lease_seconds)
        .env("QUIRE_WORKER_POLL_MS", "50")
        .env("QUIRE_SHUTDOWN_GRACE_SECONDS", grace_seconds)
        .env("QUIRE_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
        // It may claim any test's mail job: the mail goes where every test looks for it.
        .env("QUIRE_SMTP_URL", crate::mailbox::smtp_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(WorkerProcess)
        .expect("quire worker starts")
}

#[tokio::test]
async fn a_killed_worker_loses_its_job_to_another_after_its_lease() {
    let app = TestApp::spawn_own(&[]).await;
    let db = queue(&app).await;
    let slow = jobs::enqueue(
        &db,
        noop(Noop {
            sleep_ms: Some(20_000),
            ..Noop::default()
        }),
    )
    .await
    .unwrap();
    let mut first = worker_process(&app, "3", "1");
    let running = wait_for(&db, slow, Duration::from_secs(30), |row| {
        row.as_ref()
            .is_some_and(|r| r.state == JobState::Running.as_str())
    })
    .await
    .unwrap();
    first.0.kill().unwrap();
    first.0.wait().unwrap();

    // Another worker reaps it once the lease ran out, and runs it again.
    let mut second = worker_process(&app, "3", "1");
    let again = wait_for(&db, slow, Duration::from_secs(30), |row| {
        row.as_ref()
            .is_some_and(|r| r.attempts == 2 && r.state == JobState::Running.as_str())
    })
    .await
    .unwrap();
    assert_ne!(again.lease_owner, running.lease_owner);

    // SIGTERM with a job that cannot finish within the grace period: it is handed back.
    let status = terminate(&mut second.0);
    assert!(status.success(), "{status:?}");
    let released = job(&db, slow).await.unwrap();
    assert_eq!(
        (released.state.as_str(), released.attempts),
        (JobState::Queued.as_str(), 1)
    );
    // Nobody runs it again: other tests' workers share the database.
    JobRows::delete_by_id(slow).exec(&db).await.unwrap();
}

#[tokio::test]
async fn sigterm_lets_the_running_job_finish() {
    let app = TestApp::spawn_own(&[]).await;
    let db = queue(&app).await;
    let job_id = jobs::enqueue(
        &db,
        noop(Noop {
            sleep_ms: Some(1_500),
            ..Noop::default()
        }),
    )
    .await
    .unwrap();
    let mut worker = worker_process(&app, "30", "20");
    wait_for(&db, job_id, Duration::from_secs(30), |row| {
        row.as_ref()
            .is_some_and(|r| r.state == JobState::Running.as_str())
    })
    .await;
    let status = terminate(&mut worker.0);
    assert!(status.success(), "{status:?}");
    assert!(job(&db, job_id).await.is_none(), "the job did not finish");
}

#[tokio::test]
async fn a_schedule_enqueues_each_tick_once_with_two_instances_running() {
    let app = TestApp::spawn_own(&[]).await;
    let (db, other) = (queue(&app).await, queue(&app).await);
    let name: &'static str = Box::leak(unique("every-second").into_boxed_str());
    let every_second = Schedule {
        name,
        cron: "* * * * * *",
        job: |tick| noop(tick_mark(tick)),
    };
    assert!(
        schedule::enqueue_tick(&db, &every_second, 1_000)
            .await
            .unwrap()
    );
    assert!(
        !schedule::enqueue_tick(&other, &every_second, 1_000)
            .await
            .unwrap()
    );

    // Two instances' schedulers race for every tick for a few seconds.
    let (stop, stopped) = watch::channel(false);
    let first = tokio::spawn(schedule::run(
        db.clone(),
        vec![every_second],
        stopped.clone(),
    ));
    let second = tokio::spawn(schedule::run(other.clone(), vec![every_second], stopped));
    let ticks = async || -> Vec<i64> {
        TickRows::find()
            .select_only()
            .column(quire::db::entities::job_ticks::Column::Tick)
            .filter(quire::db::entities::job_ticks::Column::Schedule.eq(name))
            .into_tuple()
            .all(&db)
            .await
            .unwrap()
    };
    crate::support::wait_for("three ticks raced for", async || ticks().await.len() >= 4).await;
    stop.send(true).unwrap();
    first.await.unwrap();
    second.await.unwrap();
    let ticks = ticks().await;
    assert!(ticks.len() >= 3, "ticks {ticks:?}");
    for tick in ticks {
        let payload = serde_json::to_string(&tick_mark(tick)).unwrap();
        let enqueued = JobRows::delete_many()
            .filter(quire::db::entities::jobs::Column::Payload.eq(payload))
            .exec(&db)
            .await
            .unwrap()
            .rows_affected;
        assert_eq!(enqueued, 1, "tick {tick} was enqueued {enqueued} times");
    }
}

#[tokio::test]
async fn cleanup_deletes_expired_refresh_tokens_only() {
    use quire::db::entities::{refresh_tokens, users};
    use sea_orm::ActiveValue::Set;
    let app = TestApp::spawn_own(&[]).await;
    let db = queue(&app).await;
    let (username, _) = app.user().await;
    let user = users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let now = quire::domain::now_ms();
    let mut ids = vec![];
    for (name, expires_at) in [("expired", now - 1_000), ("current", now + 3_600_000)] {
        let row = refresh_tokens::ActiveModel {
            family: Set(unique(name)),
            user_id: Set(user.id),
            token_hash: Set(unique(name)),
            created_at: Set(now - 7_200_000),
            expires_at: Set(expires_at),
            ..Default::default()
        };
        ids.push(
            refresh_tokens::Entity::insert(row)
                .exec(&db)
                .await
                .unwrap()
                .last_insert_id,
        );
    }
    let cleanup = jobs::enqueue(&db, Cleanup {}.job()).await.unwrap();
    let (stop, worker) = start_worker(&db, Duration::from_secs(30));
    wait_for(&db, cleanup, Duration::from_secs(20), Option::is_none).await;
    stop.send(true).unwrap();
    worker.await.unwrap();
    let left: Vec<i64> = refresh_tokens::Entity::find()
        .select_only()
        .column(refresh_tokens::Column::Id)
        .filter(refresh_tokens::Column::Id.is_in(ids.clone()))
        .into_tuple()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(left, vec![ids[1]]);
}
