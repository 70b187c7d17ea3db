//! Credentials: password hashing and access tokens.

pub mod jwt;
pub mod password;
pub mod refresh;
