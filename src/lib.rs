//! Quire: a publishing backend that speaks the RealWorld (Conduit) API.

pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod observability;
pub mod outbound;
pub mod seed;
pub mod state;
pub mod telemetry;
pub mod views;
