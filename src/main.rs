use clap::{Parser, Subcommand};

/// glibc's malloc raises its mmap threshold after the first argon2 work area (19 MiB) is freed,
/// so later ones land in per-thread arenas that keep the memory: after a burst of logins the
/// process sat at hundreds of MiB. mimalloc hands such blocks back to the OS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (index 15 in its v2 and v3 headers; the bindings do not
/// name it). Rows are decoded on the SQLite driver's thread per connection and freed on the
/// runtime's threads; with the default delay the pages of idle connections' threads stayed
/// committed, and a few large reads left the process hundreds of MiB larger. Purging at once
/// returns them.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

use quire::app;
use quire::config::Settings;
use quire::domain::oauth_clients::command::OauthClientCommand;
use quire::jobs::command::JobsCommand;
use quire::state::AppState;
use quire::{db, seed, telemetry};

/// Quire: a publishing backend speaking the RealWorld (Conduit) API.
///
/// Configuration comes from `QUIRE_*` environment variables (and an optional quire.toml);
/// see the README for the table.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the APIs (the default), running background jobs too unless told not to. Applies
    /// pending migrations first (unless QUIRE_MIGRATE_ON_START=false).
    Serve(ServeOptions),
    /// Run background jobs only (no HTTP). Applies pending migrations first (unless
    /// QUIRE_MIGRATE_ON_START=false).
    Worker,
    /// Inspect and manage the job queue.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Register, list and remove third-party applications (OAuth2 clients).
    #[command(subcommand)]
    OauthClient(OauthClientCommand),
    /// Apply pending database migrations and exit. Only `migrate`, `serve` and `worker` change
    /// the schema; the other commands refuse a database that lacks a migration.
    Migrate,
    /// Insert a realistic demo data set in bulk (into a migrated database).
    Seed(seed::SeedOptions),
    /// Set every list count (`articlesCount`) from the rows: after a rolling upgrade onto the
    /// version that keeps them, while instances of the older one were still writing.
    Recount,
    /// Wait until the database has every migration of this build, changing nothing: before
    /// `serve` or `worker` with QUIRE_MIGRATE_ON_START=false (a Kubernetes init container).
    AwaitSchema,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Ask the server on QUIRE_LISTEN whether it is ready (`/health/ready`): exit 0 if so, 1
    /// if not. For container health checks in images with no shell or curl.
    Health,
}

#[derive(clap::Args, Default)]
struct ServeOptions {
    /// Run no background jobs in this process (as QUIRE_WORKER=false does): for instances
    /// beside dedicated `quire worker` processes.
    #[arg(long)]
    no_worker: bool,
}

#[tokio::main]
async fn main() {
    // SAFETY: sets a plain integer option; mimalloc reads options on every purge decision.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    let cli = Cli::parse();
    if let Err(err) = run(cli).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The schema depends on no configuration or database.
    if let Some(Command::Schema) = cli.command {
        print!("{}", quire::api::graphql::sdl());
        return Ok(());
    }
    let settings = Settings::load()?;
    if let Some(Command::Health) = cli.command {
        return app::check_health(settings.listen).await;
    }
    let _flush_logs_at_exit = telemetry::init(&settings.log, &settings.operations.traces)?;
    match cli
        .command
        .unwrap_or(Command::Serve(ServeOptions::default()))
    {
        Command::Serve(options) => {
            let run_worker = settings.worker.enabled && !options.no_worker;
            app::serve(AppState::init(settings).await?, run_worker).await
        }
        Command::Worker => {
            let db = db::open_for_service(&settings).await?;
            app::work(db, &settings).await?;
            Ok(())
        }
        Command::Jobs(command) => {
            let db = db::open_current(&settings).await?;
            quire::jobs::command::run(&db, command).await
        }
        Command::OauthClient(command) => {
            let db = db::open_current(&settings).await?;
            quire::domain::oauth_clients::command::run(&db, command).await
        }
        Command::Migrate => {
            let db = db::connect(&settings).await?;
            db::migrate(&db).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Seed(options) => {
            let db = db::open_current(&settings).await?;
            seed::run(&db, &options).await
        }
        Command::Recount => {
            let db = db::open_current(&settings).await?;
            quire::db::counts::recount(&db).await?;
            eprintln!("list counts set from the rows");
            Ok(())
        }
        Command::AwaitSchema => {
            db::await_schema(&settings).await?;
            eprintln!("the schema is current");
            Ok(())
        }
        Command::Schema => unreachable!("handled before the settings are loaded"),
        Command::Health => unreachable!("handled before logging starts"),
    }
}
