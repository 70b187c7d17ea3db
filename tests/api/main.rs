//! Black-box tests at the HTTP boundary. One binary; the backend is chosen by
//! `QUIRE_TEST_DATABASE_URL` (SQLite per test when unset).

mod articles;
mod bodies;
mod caching;
mod cards;
mod cli;
mod coherence;
mod comments;
mod graphql;
mod graphql_http;
mod http;
mod indexes;
mod jobs;
mod memory;
mod oauth;
mod oauth_clients;
mod oauth_grants;
mod oidc;
mod oidc_provider;
mod openapi;
mod operations;
mod profiles;
mod races;
mod rate_limits;
mod rebuilds;
mod receiver;
mod reports;
mod routing;
mod sessions;
mod support;
mod timeouts;
mod tokens;
mod traces;
mod users;
mod views;
mod webhooks;
