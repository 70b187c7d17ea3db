//! `quire seed`: a realistic data set inserted in bulk, for demos and benchmarks.
//!
//! Popularity is skewed (a few authors, tags and articles draw most activity), bodies are
//! ~2 KB of markdown, and every seeded user signs in with the password `password123`.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::Context;
use rand::Rng;
use rand::seq::IndexedRandom;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use crate::auth::password;
use crate::db::entities::{article_tags, articles, comments, favorites, follows, tags, users};
use crate::domain::input::slugify;

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

/// Rows per INSERT: well under every backend's bound-parameter limit.
const CHUNK: usize = 500;

const WORDS: &[&str] = &[
    "rust", "async", "database", "cache", "latency", "design", "service", "pattern", "query",
    "index", "stream", "server", "client", "memory", "thread", "schema", "deploy", "scale",
    "error", "testing", "release", "feature", "network", "storage", "protocol", "compiler",
    "runtime", "kernel", "vector", "graph", "search", "render", "budget", "team", "product",
    "writing", "garden", "coffee", "travel", "music", "history", "science", "ocean", "mountain",
];
const TAGS: &[&str] = &[
    "programming",
    "rust",
    "webdev",
    "databases",
    "devops",
    "career",
    "productivity",
    "design",
    "security",
    "performance",
    "testing",
    "javascript",
    "python",
    "go",
    "cloud",
    "linux",
    "opensource",
    "ai",
    "writing",
    "books",
    "travel",
    "music",
    "photography",
    "cooking",
    "science",
    "history",
    "startups",
    "management",
    "health",
    "gaming",
];
const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara",
];

/// Index into `len` items skewed towards the front (roughly quadratic popularity).
fn skewed(rng: &mut impl Rng, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * len as f64) as usize).min(len - 1)
}

fn sentence(rng: &mut impl Rng, words: usize) -> String {
    let mut text: Vec<&str> = (0..words).map(|_| *WORDS.choose(rng).unwrap()).collect();
    let first = text[0].to_owned();
    let mut capitalised = first[..1].to_uppercase();
    capitalised.push_str(&first[1..]);
    text[0] = &capitalised;
    format!("{}.", text.join(" "))
}

fn markdown_body(rng: &mut impl Rng) -> String {
    let mut body = String::with_capacity(2_200);
    while body.len() < 2_000 {
        body.push_str("## ");
        body.push_str(&sentence(rng, 4));
        body.push_str("\n\n");
        for _ in 0..4 {
            let words = rng.random_range(8..16);
            body.push_str(&sentence(rng, words));
            body.push(' ');
        }
        body.push_str("\n\n- ");
        body.push_str(&sentence(rng, 6));
        body.push_str("\n- `");
        body.push_str(WORDS.choose(rng).unwrap());
        body.push_str("()`\n\n");
    }
    body
}

pub async fn run(db: &DatabaseConnection, options: &SeedOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.users >= 2, "--users must be at least 2");
    let started = Instant::now();
    let mut rng = rand::rng();
    // A run tag keeps usernames, e-mails and slugs unique when seeding the same database twice.
    let run_tag: String = (0..4)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    let year_ms = 365 * 24 * 3_600 * 1_000_i64;
    let hash = password::hash(SEED_PASSWORD.to_owned()).await?;

    // Users.
    let usernames: Vec<String> = (0..options.users)
        .map(|i| format!("{}{}_{run_tag}", NAMES[i % NAMES.len()], i))
        .collect();
    for chunk in usernames.chunks(CHUNK) {
        let rows = chunk.iter().map(|name| users::ActiveModel {
            username: Set(name.clone()),
            username_key: Set(name.to_lowercase()),
            email: Set(format!("{}@seed.example.com", name.to_lowercase())),
            password_hash: Set(hash.clone()),
            bio: Set(format!(
                "I write about {}.",
                WORDS[name.len() % WORDS.len()]
            )),
            image: Set(String::new()),
            created_at: Set(now - year_ms),
            updated_at: Set(now - year_ms),
            ..Default::default()
        });
        users::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    let user_ids = ids_by(db, &usernames, |keys| {
        users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .column(users::Column::UsernameKey)
            .filter(users::Column::UsernameKey.is_in(keys.iter().map(|k| k.to_lowercase())))
            .into_tuple::<(i64, String)>()
    })
    .await?;
    let user_ids: Vec<i64> = usernames
        .iter()
        .map(|n| user_ids[&n.to_lowercase()])
        .collect();

    // Tags.
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
    let tag_ids: HashMap<String, i64> = tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .column(tags::Column::Id)
        .filter(tags::Column::Name.is_in(TAGS.iter().copied()))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    // Favorites are drawn first so that articles carry their final favorites_count.
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

    // Articles, newest with the lowest index so that popular ones are also recent.
    let slugs: Vec<String> = (0..article_count)
        .map(|i| {
            let title = sentence(&mut rng, 5);
            format!("{}-{run_tag}{i}", slugify(&title))
        })
        .collect();
    let mut article_authors = Vec::with_capacity(article_count);
    for (chunk_index, chunk) in slugs.chunks(CHUNK).enumerate() {
        let txn = db.begin().await?;
        let mut rows = Vec::with_capacity(chunk.len());
        for (offset, slug) in chunk.iter().enumerate() {
            let index = chunk_index * CHUNK + offset;
            let author = user_ids[skewed(&mut rng, user_ids.len())];
            article_authors.push(author);
            let created = now
                - (index as i64 * year_ms / article_count.max(1) as i64)
                - rng.random_range(0..1_000);
            let title: String = slug
                .rsplit_once('-')
                .map(|(t, _)| t)
                .unwrap_or(slug)
                .replace('-', " ");
            rows.push(articles::ActiveModel {
                slug: Set(slug.clone()),
                title: Set(title),
                description: Set(sentence(&mut rng, 12)),
                body: Set(markdown_body(&mut rng)),
                author_id: Set(author),
                favorites_count: Set(favorite_counts[index]),
                created_at: Set(created),
                updated_at: Set(created),
                ..Default::default()
            });
        }
        articles::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
    }
    let article_ids = ids_by(db, &slugs, |keys| {
        articles::Entity::find()
            .select_only()
            .column(articles::Column::Id)
            .column(articles::Column::Slug)
            .filter(articles::Column::Slug.is_in(keys.iter().cloned()))
            .into_tuple::<(i64, String)>()
    })
    .await?;
    let article_ids: Vec<i64> = slugs.iter().map(|s| article_ids[s]).collect();

    // 1-4 tags per article from a skewed pool.
    let mut links = Vec::new();
    for article_id in &article_ids {
        let mut chosen = HashSet::new();
        for _ in 0..rng.random_range(1..=4) {
            chosen.insert(TAGS[skewed(&mut rng, TAGS.len())]);
        }
        for tag in chosen {
            links.push(article_tags::ActiveModel {
                article_id: Set(*article_id),
                tag_id: Set(tag_ids[tag]),
            });
        }
    }
    insert_chunked(db, links, article_tags::Entity::insert_many).await?;

    let favorite_rows: Vec<favorites::ActiveModel> = favorite_pairs
        .iter()
        .map(|(user, article)| favorites::ActiveModel {
            user_id: Set(user_ids[*user]),
            article_id: Set(article_ids[*article]),
            created_at: Set(now),
        })
        .collect();
    insert_chunked(db, favorite_rows, |rows| {
        favorites::Entity::insert_many(rows)
    })
    .await?;

    // Follows: popular authors gain most followers; nobody follows themselves.
    let mut follow_pairs = HashSet::new();
    let follow_cap = options.follows.min(options.users * (options.users - 1));
    while follow_pairs.len() < follow_cap {
        let follower = rng.random_range(0..options.users);
        let followee = skewed(&mut rng, options.users);
        if follower != followee {
            follow_pairs.insert((follower, followee));
        }
    }
    let follow_rows: Vec<follows::ActiveModel> = follow_pairs
        .iter()
        .map(|(a, b)| follows::ActiveModel {
            follower_id: Set(user_ids[*a]),
            followee_id: Set(user_ids[*b]),
            created_at: Set(now),
        })
        .collect();
    insert_chunked(db, follow_rows, follows::Entity::insert_many).await?;

    let mut comment_rows = Vec::with_capacity(options.comments);
    if article_count > 0 {
        for _ in 0..options.comments {
            let article = skewed(&mut rng, article_count);
            let created = now - rng.random_range(0..year_ms);
            comment_rows.push(comments::ActiveModel {
                article_id: Set(article_ids[article]),
                author_id: Set(user_ids[rng.random_range(0..user_ids.len())]),
                body: Set({
                    let words = rng.random_range(6..30);
                    sentence(&mut rng, words)
                }),
                created_at: Set(created),
                updated_at: Set(created),
                ..Default::default()
            });
        }
    }
    insert_chunked(db, comment_rows, comments::Entity::insert_many).await?;

    eprintln!(
        "seeded {} users, {} articles, {} favorites, {} follows, {} comments in {:.1}s (password: {SEED_PASSWORD})",
        options.users,
        article_count,
        favorite_pairs.len(),
        follow_pairs.len(),
        options.comments,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn insert_chunked<A, F>(
    db: &DatabaseConnection,
    rows: Vec<A>,
    insert: F,
) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
    F: Fn(Vec<A>) -> sea_orm::InsertMany<A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK * 2).collect();
        let txn = db.begin().await?;
        insert(chunk)
            .exec_without_returning(&txn)
            .await
            .context("bulk insert")?;
        txn.commit().await?;
    }
    Ok(())
}

/// Looks up generated ids for the given natural keys, a chunk at a time.
async fn ids_by<F>(
    db: &DatabaseConnection,
    keys: &[String],
    select: F,
) -> anyhow::Result<HashMap<String, i64>>
where
    F: Fn(&[String]) -> sea_orm::Selector<sea_orm::SelectGetableTuple<(i64, String)>>,
{
    let mut ids = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        for (id, key) in select(chunk).all(db).await? {
            ids.insert(key, id);
        }
    }
    Ok(ids)
}
