//! Text columns that behave the same on every backend.
//!
//! - MySQL/MariaDB's `utf8mb4_bin` pads with spaces when comparing, so `slug = 'x '` found the
//!   article `x`: lookup columns move to a NO PAD binary collation (`utf8mb4_nopad_bin` on
//!   MariaDB, `utf8mb4_0900_bin` on MySQL 8), so they match exactly, as on PostgreSQL and SQLite.
//! - Lower-casing can lengthen a username (`İ` becomes two code points): `username_key` gets
//!   room for any accepted username's key.
//! - MySQL's `TEXT` holds 64 KiB, less than the longest accepted article body (100,000
//!   characters): bodies become `MEDIUMTEXT`.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct ExactText;

/// Room for the lower-cased form of a 64-character username (case mapping at most doubles it).
const USERNAME_KEY_LEN: u32 = 255;

#[async_trait::async_trait]
impl MigrationTrait for ExactText {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => Ok(()),
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE users ALTER COLUMN username_key TYPE varchar({USERNAME_KEY_LEN})"
                ))
                .await?;
                Ok(())
            }
            DbBackend::MySql => {
                let version = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::MySql,
                        "SELECT VERSION() AS version",
                    ))
                    .await?
                    .map(|row| row.try_get::<String>("", "version"))
                    .transpose()?
                    .unwrap_or_default();
                let exact = if version.to_ascii_lowercase().contains("mariadb") {
                    "utf8mb4_nopad_bin"
                } else {
                    "utf8mb4_0900_bin"
                };
                let text = |len: u32| {
                    format!("varchar({len}) CHARACTER SET utf8mb4 COLLATE {exact} NOT NULL")
                };
                for statement in [
                    format!(
                        "ALTER TABLE users MODIFY username {}, MODIFY username_key {}, MODIFY email {}",
                        text(64),
                        text(USERNAME_KEY_LEN),
                        text(254)
                    ),
                    format!(
                        "ALTER TABLE articles MODIFY slug {}, MODIFY body MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
                        text(255)
                    ),
                    format!("ALTER TABLE tags MODIFY name {}", text(64)),
                ] {
                    db.execute_unprepared(&statement).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
