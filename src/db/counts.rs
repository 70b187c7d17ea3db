//! The maintained list counts: how many articles there are, per tag, per author and favorited
//! per user. Each write that changes a list moves its count in the same transaction, so a list's
//! `articlesCount` is read from one row instead of counting the list (which grows with the
//! table). `recount` sets them all from the rows, for the migration that adds them and the seed.

use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, LockType, OnConflict, Query, SelectStatement, SimpleExpr,
    UpdateStatement,
};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryTrait, TransactionSession,
    TransactionTrait,
};

use crate::db::entities::{article_tags, articles, favorites, tags, users};

/// The `list_counts` row of every article.
const ALL_ARTICLES: &str = "articles";

fn list_counts() -> Alias {
    Alias::new("list_counts")
}

/// How many articles there are.
pub async fn all_articles(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let stmt = Query::select()
        .column(Alias::new("total"))
        .from(list_counts())
        .and_where(Expr::col(Alias::new("name")).eq(ALL_ARTICLES))
        .take();
    let total: Option<i64> = match db.query_one(&stmt).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    Ok(total.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// An article was created (`+1`) or deleted (`-1`). Called last in its transaction, so the one
/// row every such write shares is locked only until the commit.
pub async fn move_all_articles(db: &impl ConnectionTrait, delta: i64) -> Result<(), DbErr> {
    let stmt = Query::update()
        .table(list_counts())
        .value(
            Alias::new("total"),
            Expr::col(Alias::new("total")).add(delta),
        )
        .and_where(Expr::col(Alias::new("name")).eq(ALL_ARTICLES))
        .take();
    db.execute(&stmt).await?;
    Ok(())
}

/// Moves the articles count of `author` by `delta`.
pub async fn move_author(db: &impl ConnectionTrait, author: i64, delta: i64) -> Result<(), DbErr> {
    let author = Expr::col(users::Column::Id).eq(author);
    shift::<users::Entity>(db, users::Column::ArticlesCount, author, delta).await
}

/// Moves the favorites count of each user `fans` selects by `delta`.
pub async fn move_fans(
    db: &impl ConnectionTrait,
    fans: SimpleExpr,
    delta: i64,
) -> Result<(), DbErr> {
    shift::<users::Entity>(db, users::Column::FavoritesCount, fans, delta).await
}

/// Moves the articles count of each tag `which` selects by `delta`.
pub async fn move_tags(
    db: &impl ConnectionTrait,
    which: SimpleExpr,
    delta: i64,
) -> Result<(), DbErr> {
    shift::<tags::Entity>(db, tags::Column::ArticlesCount, which, delta).await
}

/// `column = column + delta` on the rows of `E` that `which` selects: a relative move, so
/// concurrent writers each add their own change instead of overwriting each other's.
async fn shift<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    which: SimpleExpr,
    delta: i64,
) -> Result<(), DbErr> {
    E::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(which)
        .exec(db)
        .await?;
    Ok(())
}

/// Users recounted per statement: a short lock on a slice of them, not one on every user.
const RECOUNT_SLICE: i64 = 1_000;

/// Sets every count from the rows (correlated counts, each served by an index), a slice of
/// users at a time; a slice that meets a deadlock with a concurrent writer runs again. Each
/// slice's rows are locked before they are counted, in a transaction: a write that committed
/// before is counted, and one still open moves the count after (it waits for the lock), so
/// writers running meanwhile leave the counts exact.
pub async fn recount<C: ConnectionTrait + TransactionTrait>(db: &C) -> Result<(), DbErr> {
    recount_users(db).await?;
    recount_tags(db).await?;
    recount_all_articles(db).await
}

/// Each user's articles and favorites, a slice of users at a time.
async fn recount_users<C: ConnectionTrait + TransactionTrait>(db: &C) -> Result<(), DbErr> {
    let largest = Query::select()
        .expr(Expr::cust("COALESCE(MAX(id), 0)"))
        .from(users::Entity)
        .take();
    let largest: i64 = match db.query_one(&largest).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    let mut first = 0;
    while first <= largest {
        let slice = Expr::col(users::Column::Id)
            .gte(first)
            .and(Expr::col(users::Column::Id).lt(first + RECOUNT_SLICE));
        let lock = Query::select()
            .column(users::Column::Id)
            .from(users::Entity)
            .and_where(slice.clone())
            .take();
        let recount_users = users::Entity::update_many()
            .col_expr(
                users::Column::ArticlesCount,
                scalar(count_where(
                    articles::Entity,
                    (articles::Entity, articles::Column::AuthorId),
                )),
            )
            .col_expr(
                users::Column::FavoritesCount,
                scalar(count_where(
                    favorites::Entity,
                    (favorites::Entity, favorites::Column::UserId),
                )),
            )
            .filter(slice);
        let recount_users = recount_users.into_query();
        retried(|| locked(db, &lock, &recount_users)).await?;
        first += RECOUNT_SLICE;
    }
    Ok(())
}

async fn recount_tags<C: ConnectionTrait + TransactionTrait>(db: &C) -> Result<(), DbErr> {
    let tag_articles = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(article_tags::Entity)
        .and_where(
            Expr::col((article_tags::Entity, article_tags::Column::TagId))
                .equals((tags::Entity, tags::Column::Id)),
        )
        .take();
    let recount_tags = tags::Entity::update_many()
        .col_expr(tags::Column::ArticlesCount, scalar(tag_articles))
        .into_query();
    let lock = Query::select()
        .column(tags::Column::Id)
        .from(tags::Entity)
        .take();
    retried(|| locked(db, &lock, &recount_tags)).await
}

/// The size of the list of all articles (its row created when missing).
async fn recount_all_articles<C: ConnectionTrait + TransactionTrait>(db: &C) -> Result<(), DbErr> {
    let counted = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(articles::Entity)
        .take();
    let set_total = Query::update()
        .table(list_counts())
        .value(
            Alias::new("total"),
            SimpleExpr::SubQuery(None, Box::new(counted.into())),
        )
        .and_where(Expr::col(Alias::new("name")).eq(ALL_ARTICLES))
        .take();
    let lock = Query::select()
        .column(Alias::new("name"))
        .from(list_counts())
        .and_where(Expr::col(Alias::new("name")).eq(ALL_ARTICLES))
        .take();
    let seeded = Query::insert()
        .into_table(list_counts())
        .columns([Alias::new("name"), Alias::new("total")])
        .values_panic([ALL_ARTICLES.into(), 0.into()])
        .on_conflict(
            OnConflict::column(Alias::new("name"))
                .do_nothing_on([Alias::new("name")])
                .to_owned(),
        )
        .take();
    db.execute(&seeded).await?;
    retried(|| locked(db, &lock, &set_total)).await?;
    Ok(())
}

/// `SELECT COUNT(*) FROM table WHERE column = users.id`.
fn count_where<T, C>(table: T, column: (T, C)) -> SelectStatement
where
    T: sea_orm::sea_query::IntoIden + Copy + 'static,
    C: sea_orm::sea_query::IntoIden + 'static,
{
    Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(table)
        .and_where(Expr::col(column).equals((users::Entity, users::Column::Id)))
        .take()
}

/// Runs `update` in a transaction after locking the rows `lock` selects (PostgreSQL and
/// MySQL; SQLite has one writer at a time).
async fn locked<C: TransactionTrait>(
    db: &C,
    lock: &SelectStatement,
    update: &UpdateStatement,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() != DbBackend::Sqlite {
        let mut lock = lock.clone();
        lock.lock(LockType::Update);
        txn.query_all(&lock).await?;
    }
    txn.execute(update).await?;
    txn.commit().await
}

/// Runs `statement` again (a few times) while it fails on a deadlock or a busy database.
async fn retried<T, F, Fut>(statement: F) -> Result<T, DbErr>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let mut attempt = 0;
    loop {
        match statement().await {
            Err(err) if crate::db::is_transient(&err) && attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            other => return other,
        }
    }
}

/// `(SELECT ...)` as a value.
fn scalar(select: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(select.into()))
}
