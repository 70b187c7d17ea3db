//! Black-box tests at the HTTP boundary. One binary; the backend is chosen by
//! `QUIRE_TEST_DATABASE_URL` (SQLite per test when unset).

mod articles;
mod caching;
mod cli;
mod comments;
mod graphql;
mod http;
mod indexes;
mod profiles;
mod support;
mod users;
