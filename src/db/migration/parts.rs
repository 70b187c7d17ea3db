//! The pieces the migrations build tables from.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// A table to create when it is missing.
pub(super) fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).if_not_exists().take()
}

/// The `id` primary key: a 64-bit integer the database assigns.
pub(super) fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

/// `table.column` refers to `parent.id`, and goes with it.
pub(super) fn cascade(
    table: &'static str,
    column: &'static str,
    parent: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(parent, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// Creates the tables in order. On MySQL/MariaDB they are InnoDB with binary collation: strings
/// compare exactly (case, accents, trailing spaces) as on PostgreSQL and SQLite.
pub(super) async fn create_tables<const N: usize>(
    manager: &SchemaManager<'_>,
    tables: [TableCreateStatement; N],
) -> Result<(), DbErr> {
    for mut table in tables {
        if manager.get_database_backend() == DbBackend::MySql {
            table
                .engine("InnoDB")
                .character_set("utf8mb4")
                .collate("utf8mb4_bin");
        }
        manager.create_table(table).await?;
    }
    Ok(())
}

/// Creates each index `(name, table, columns)` when it is missing.
pub(super) async fn create_indexes(
    manager: &SchemaManager<'_>,
    indexes: &[(&'static str, &'static str, &[&'static str])],
) -> Result<(), DbErr> {
    for (name, table, columns) in indexes {
        let mut index = Index::create();
        index.if_not_exists().name(*name).table(*table);
        for column in *columns {
            index.col(*column);
        }
        manager.create_index(index).await?;
    }
    Ok(())
}
