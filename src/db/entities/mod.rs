//! SeaORM 2.0 entities (dense format). Timestamps are milliseconds since the Unix epoch in a
//! BIGINT: identical precision and ordering on SQLite, PostgreSQL and MySQL.

pub mod article_tags;
pub mod article_views;
pub mod articles;
pub mod comments;
pub mod email_tokens;
pub mod favorites;
pub mod follows;
pub mod job_ticks;
pub mod jobs;
pub mod login_handoffs;
pub mod oauth_clients;
pub mod oauth_codes;
pub mod oauth_consents;
pub mod oauth_tokens;
pub mod oidc_attempts_spent;
pub mod refresh_tokens;
pub mod report_chunks;
pub mod reports;
pub mod tags;
pub mod user_identities;
pub mod users;
pub mod webhook_deliveries;
pub mod webhooks;
