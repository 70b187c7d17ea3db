//! Credentials: password hashing, access and refresh tokens, browser sessions.

pub mod jwt;
pub mod oidc;
pub mod password;
pub mod refresh;
pub mod session;
