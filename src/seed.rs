//! `quire seed`: a realistic data set inserted in bulk, for demos and benchmarks.
//!
//! Popularity is skewed (a few authors, tags and articles draw most activity), bodies are
//! ~2 KB of markdown, and every seeded user signs in with the password `password123`. Rows are
//! generated in batches (`text`) and loaded in bulk (`load`), two streams at a time; the
//! maintained list counts are set from the rows at the end, and the planner's statistics
//! refreshed.

mod load;
mod text;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use rand::Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use crate::auth::password;
use crate::db::counts;
use crate::db::entities::tags;
use crate::domain::values::{Slug, username_key};
use load::{Cell, load, load_keyed};
use text::{NAMES, TAGS, WORDS, markdown_body, sentence, skewed};

pub const SEED_PASSWORD: &str = "password123";

#[derive(clap::Args, Debug, Clone)]
pub struct SeedOptions {
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    #[arg(long, default_value_t = 20_000)]
    pub articles: usize,
    #[arg(long, default_value_t = 50_000)]
    pub favorites: usize,
    #[arg(long, default_value_t = 10_000)]
    pub follows: usize,
    #[arg(long, default_value_t = 40_000)]
    pub comments: usize,
}

/// Rows generated and loaded at a time: a million articles never sit in memory at once.
const BATCH: usize = 20_000;

/// What every part of a seed run shares.
struct Run {
    /// Keeps usernames, e-mails and slugs unique when seeding the same database twice.
    tag: String,
    now: i64,
    user_ids: Vec<i64>,
    tag_ids: HashMap<&'static str, i64>,
    article_count: usize,
    /// Each article's favorites, drawn before the articles so they carry their final count.
    favorite_counts: Vec<i64>,
}

const YEAR_MS: i64 = 365 * 24 * 3_600 * 1_000;

pub async fn run(db: &DatabaseConnection, options: &SeedOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.users >= 2, "--users must be at least 2");
    let started = Instant::now();
    let mut rng = rand::rng();
    let tag: String = (0..4)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    let hash = password::hash(SEED_PASSWORD.to_owned()).await?;
    let user_ids = load_users(db, options.users, &tag, &hash, now).await?;
    let tag_ids = seed_tags(db).await?;

    let article_count = options.articles;
    let mut favorite_pairs: HashSet<(usize, usize)> = HashSet::new();
    if article_count > 0 {
        let cap = options.favorites.min(options.users * article_count);
        while favorite_pairs.len() < cap {
            favorite_pairs.insert((
                rng.random_range(0..options.users),
                skewed(&mut rng, article_count),
            ));
        }
    }
    let mut favorite_counts = vec![0_i64; article_count];
    for (_, article) in &favorite_pairs {
        favorite_counts[*article] += 1;
    }
    let run = Run {
        tag,
        now,
        user_ids,
        tag_ids,
        article_count,
        favorite_counts,
    };

    // Two streams at a time: the database works on both at once (a COPY keeps one core busy).
    let middle = article_count / 2;
    let (mut articles, newer) = futures::future::try_join(
        load_articles(db, &run, 0..middle),
        load_articles(db, &run, middle..article_count),
    )
    .await?;
    articles.extend(newer);

    // Sorted, so that each index grows at its end rather than everywhere at once.
    let mut favorite_pairs: Vec<(usize, usize)> = favorite_pairs.into_iter().collect();
    favorite_pairs.sort_unstable();
    let follow_pairs = draw_follows(options);
    let comments = if article_count > 0 {
        options.comments
    } else {
        0
    };
    futures::future::try_join(
        async {
            load_favorites(db, &run, &articles, &favorite_pairs).await?;
            load_follows(db, &run, &follow_pairs).await
        },
        load_comments(db, &run, &articles, comments),
    )
    .await?;

    counts::recount(db).await?;
    load::analyze(db).await?;
    eprintln!(
        "seeded {} users, {} articles, {} favorites, {} follows, {comments} comments in {:.1}s (password: {SEED_PASSWORD})",
        options.users,
        article_count,
        favorite_pairs.len(),
        follow_pairs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn load_users(
    db: &DatabaseConnection,
    count: usize,
    tag: &str,
    hash: &str,
    now: i64,
) -> anyhow::Result<Vec<i64>> {
    let mut user_ids = Vec::with_capacity(count);
    for first in (0..count).step_by(BATCH) {
        let rows = (first..count.min(first + BATCH))
            .map(|i| {
                let name = format!("{}{i}_{tag}", NAMES[i % NAMES.len()]);
                let key = username_key(&name);
                let cells = vec![
                    Cell::from(key.clone()),
                    Cell::from(format!("{key}@seed.example.com")),
                    Cell::from(format!(
                        "I write about {}.",
                        WORDS[name.len() % WORDS.len()]
                    )),
                    Cell::from(name),
                    Cell::from(hash.to_owned()),
                    Cell::from(String::new()),
                    Cell::from(now - YEAR_MS),
                    Cell::from(now - YEAR_MS),
                ];
                (key, cells)
            })
            .collect();
        let columns = [
            "username_key",
            "email",
            "bio",
            "username",
            "password_hash",
            "image",
            "created_at",
            "updated_at",
        ];
        user_ids.extend(load_keyed(db, "users", "username_key", &columns, rows).await?);
    }
    Ok(user_ids)
}

/// The articles `indexes` (newest with the lowest index, so that popular ones are also recent),
/// each with 1-4 tags from a skewed pool; answers their ids and creation times.
async fn load_articles(
    db: &DatabaseConnection,
    run: &Run,
    indexes: std::ops::Range<usize>,
) -> anyhow::Result<Vec<(i64, i64)>> {
    let mut loaded = Vec::with_capacity(indexes.len());
    for first in indexes.clone().step_by(BATCH) {
        let batch = first..indexes.end.min(first + BATCH);
        let mut rows = Vec::with_capacity(batch.len());
        let mut tags_chosen = Vec::with_capacity(batch.len());
        {
            let mut rng = rand::rng();
            for index in batch {
                let created = run.now
                    - (index as i64 * YEAR_MS / run.article_count.max(1) as i64)
                    - rng.random_range(0..1_000);
                let title = sentence(&mut rng, 5);
                let slug = Slug::of_title(&title)
                    .with_suffix(&format!("{}{index}", run.tag))
                    .into_string();
                let cells = vec![
                    Cell::from(slug.clone()),
                    Cell::from(title.trim_end_matches('.').to_owned()),
                    Cell::from(sentence(&mut rng, 12)),
                    Cell::from(markdown_body(&mut rng)),
                    Cell::from(run.user_ids[skewed(&mut rng, run.user_ids.len())]),
                    Cell::from(run.favorite_counts[index]),
                    Cell::from(created),
                    Cell::from(created),
                ];
                rows.push((slug, cells));
                let chosen: HashSet<&str> = (0..rng.random_range(1..=4))
                    .map(|_| TAGS[skewed(&mut rng, TAGS.len())])
                    .collect();
                tags_chosen.push((created, chosen));
            }
        }
        let columns = [
            "slug",
            "title",
            "description",
            "body",
            "author_id",
            "favorites_count",
            "created_at",
            "updated_at",
        ];
        let ids = load_keyed(db, "articles", "slug", &columns, rows).await?;
        let mut links = Vec::new();
        for (id, (created, chosen)) in ids.iter().zip(tags_chosen) {
            loaded.push((*id, created));
            for tag in chosen {
                links.push(vec![
                    Cell::from(*id),
                    Cell::from(run.tag_ids[tag]),
                    Cell::from(created),
                ]);
            }
        }
        load(
            db,
            "article_tags",
            &["article_id", "tag_id", "created_at"],
            links,
        )
        .await?;
    }
    Ok(loaded)
}

async fn load_favorites(
    db: &DatabaseConnection,
    run: &Run,
    articles: &[(i64, i64)],
    pairs: &[(usize, usize)],
) -> anyhow::Result<()> {
    for batch in pairs.chunks(BATCH * 5) {
        let rows = batch
            .iter()
            .map(|(user, article)| {
                let (id, created) = articles[*article];
                vec![
                    Cell::from(run.user_ids[*user]),
                    Cell::from(id),
                    Cell::from(run.now),
                    Cell::from(created),
                ]
            })
            .collect();
        let columns = ["user_id", "article_id", "created_at", "article_created_at"];
        load(db, "favorites", &columns, rows).await?;
    }
    Ok(())
}

/// Popular authors gain most followers; nobody follows themselves.
fn draw_follows(options: &SeedOptions) -> Vec<(usize, usize)> {
    let mut rng = rand::rng();
    let mut pairs = HashSet::new();
    let cap = options.follows.min(options.users * (options.users - 1));
    while pairs.len() < cap {
        let follower = rng.random_range(0..options.users);
        let followee = skewed(&mut rng, options.users);
        if follower != followee {
            pairs.insert((follower, followee));
        }
    }
    let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    pairs
}

async fn load_follows(
    db: &DatabaseConnection,
    run: &Run,
    pairs: &[(usize, usize)],
) -> anyhow::Result<()> {
    for batch in pairs.chunks(BATCH * 5) {
        let rows = batch
            .iter()
            .map(|(a, b)| {
                vec![
                    Cell::from(run.user_ids[*a]),
                    Cell::from(run.user_ids[*b]),
                    Cell::from(run.now),
                ]
            })
            .collect();
        let columns = ["follower_id", "followee_id", "created_at"];
        load(db, "follows", &columns, rows).await?;
    }
    Ok(())
}

/// `count` comments, most of them on the popular (newest) articles.
async fn load_comments(
    db: &DatabaseConnection,
    run: &Run,
    articles: &[(i64, i64)],
    count: usize,
) -> anyhow::Result<()> {
    let mut remaining = count;
    while remaining > 0 {
        let batch = remaining.min(BATCH * 5);
        remaining -= batch;
        let mut rows: Vec<(usize, Vec<Cell>)> = {
            let mut rng = rand::rng();
            (0..batch)
                .map(|_| {
                    let article = skewed(&mut rng, articles.len());
                    let created = run.now - rng.random_range(0..YEAR_MS);
                    let words = rng.random_range(6..30);
                    let cells = vec![
                        Cell::from(articles[article].0),
                        Cell::from(run.user_ids[rng.random_range(0..run.user_ids.len())]),
                        Cell::from(sentence(&mut rng, words)),
                        Cell::from(created),
                        Cell::from(created),
                    ];
                    (article, cells)
                })
                .collect()
        };
        rows.sort_unstable_by_key(|(article, _)| *article);
        let columns = [
            "article_id",
            "author_id",
            "body",
            "created_at",
            "updated_at",
        ];
        let rows = rows.into_iter().map(|(_, cells)| cells).collect();
        load(db, "comments", &columns, rows).await?;
    }
    Ok(())
}

/// The seed's tags (those already there are kept), by name.
async fn seed_tags(db: &DatabaseConnection) -> anyhow::Result<HashMap<&'static str, i64>> {
    let tag_rows = TAGS.iter().map(|t| tags::ActiveModel {
        name: Set((*t).to_owned()),
        ..Default::default()
    });
    tags::Entity::insert_many(tag_rows)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(tags::Column::Name)
                .do_nothing_on([tags::Column::Name])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let ids: HashMap<String, i64> = tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .column(tags::Column::Id)
        .filter(tags::Column::Name.is_in(TAGS.iter().copied()))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(TAGS.iter().map(|t| (*t, ids[*t])).collect())
}
