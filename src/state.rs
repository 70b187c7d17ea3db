//! The application state every handler and middleware shares. Imports no routes: handlers and
//! extractors take the parts they need through [`FromRef`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRef;
use sea_orm::DatabaseConnection;

use crate::auth::jwt::TokenIssuer;
use crate::auth::oidc::OidcProviders;
use crate::auth::password;
use crate::auth::session::SessionStore;
use crate::cache::Cache;
use crate::config::{MailTransport, Settings};
use crate::db;
use crate::domain::accounts::Accounts;
use crate::domain::accounts::MailPolicy;
use crate::domain::articles::Articles;
use crate::domain::oauth::OAuth;
use crate::domain::profiles::Profiles;
use crate::domain::reports::Reports;
use crate::domain::webhooks::Webhooks;
use crate::domain::{Core, Domain, Parts, cache_keys};
use crate::limits::RateLimiter;
use crate::mail::Mailer;
use crate::outbound::Outbound;
use crate::views::ViewRecorder;

#[derive(Clone)]
pub struct AppState {
    pub domain: Domain,
    pub settings: Arc<Settings>,
    pub lifecycle: Lifecycle,
}

/// Whether this instance is on its way out: readiness says so at once after SIGTERM.
#[derive(Clone, Default)]
pub struct Lifecycle {
    shutting_down: Arc<AtomicBool>,
}

impl Lifecycle {
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

impl AppState {
    /// Connects to the database, migrated by this process or by another
    /// (`QUIRE_MIGRATE_ON_START`).
    pub async fn init(settings: Settings) -> anyhow::Result<Self> {
        let db = db::open_for_service(&settings).await?;
        Self::on_database(db, settings).await
    }

    /// The state over a database already open (and migrated).
    pub async fn on_database(db: DatabaseConnection, settings: Settings) -> anyhow::Result<Self> {
        let tokens = TokenIssuer::new(
            &settings.jwt_secret,
            settings.jwt_ttl,
            settings.access_token_ttl,
            settings.refresh_token_ttl,
        )
        .with_reuse_window(settings.refresh_reuse_window);
        let (namespace, layout) = (&settings.cache_namespace, cache_keys::LAYOUT);
        let cache = match &settings.redis_url {
            _ if !settings.cache_enabled => Cache::disabled(namespace, layout),
            Some(url) => Cache::redis(namespace, layout, url)?,
            None => Cache::local(namespace, layout),
        };
        // The first unknown-e-mail login must not be the one that pays for the dummy hash.
        password::prepare().await?;
        let sessions = SessionStore::new(
            cache.clone(),
            settings.session_idle_timeout,
            settings.session_max_age,
        );
        let limiter = RateLimiter::new(&settings.rate_limits, cache.clone());
        let outbound = Outbound::new(settings.worker.webhook_allow_hosts.clone())?;
        Ok(AppState {
            domain: Domain::new(Parts {
                core: Core {
                    db: db.clone(),
                    cache,
                },
                tokens,
                sessions,
                limiter,
                views: if settings.worker.record_views {
                    ViewRecorder::start(db.clone())
                } else {
                    ViewRecorder::off()
                },
                oidc: OidcProviders::new(&settings.oidc_providers, &settings.jwt_secret)?,
                webhooks: Webhooks::new(db.clone(), outbound),
                reports: Reports::new(db.clone(), settings.worker.reports_kept),
                mailer: Mailer::new(&settings)?,
                mail: MailPolicy {
                    enabled: settings.mail.transport != MailTransport::Off,
                    base_url: settings
                        .public_url
                        .clone()
                        .unwrap_or_else(|| format!("http://{}", settings.listen)),
                    site_name: settings.mail.site_name.clone(),
                },
                oauth_require_pkce: settings.oauth_require_pkce,
            }),
            settings: Arc::new(settings),
            lifecycle: Lifecycle::default(),
        })
    }
}

impl FromRef<AppState> for Articles {
    fn from_ref(state: &AppState) -> Self {
        state.domain.articles.clone()
    }
}

impl FromRef<AppState> for Profiles {
    fn from_ref(state: &AppState) -> Self {
        state.domain.profiles.clone()
    }
}

impl FromRef<AppState> for Accounts {
    fn from_ref(state: &AppState) -> Self {
        state.domain.accounts.clone()
    }
}

impl FromRef<AppState> for OAuth {
    fn from_ref(state: &AppState) -> Self {
        state.domain.oauth.clone()
    }
}

impl FromRef<AppState> for Webhooks {
    fn from_ref(state: &AppState) -> Self {
        state.domain.webhooks.clone()
    }
}

impl FromRef<AppState> for Reports {
    fn from_ref(state: &AppState) -> Self {
        state.domain.reports.clone()
    }
}

impl FromRef<AppState> for Domain {
    fn from_ref(state: &AppState) -> Self {
        state.domain.clone()
    }
}

impl FromRef<AppState> for Arc<Settings> {
    fn from_ref(state: &AppState) -> Self {
        state.settings.clone()
    }
}

impl FromRef<AppState> for Cache {
    fn from_ref(state: &AppState) -> Self {
        state.domain.core.cache.clone()
    }
}
